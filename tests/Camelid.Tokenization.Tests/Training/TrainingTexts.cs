using System.Text;

namespace Camelid.Tokenization.Tests.Training;

/// <summary>Deterministic made-up corpora for the trainer tests.</summary>
static class TrainingTexts
{
    static readonly string[] Subjects = ["the cat", "a small dog", "the old man", "my sister", "the farmer", "a little bird", "the teacher", "our neighbour"];
    static readonly string[] Verbs = ["sees", "likes", "finds", "carries", "watches", "paints", "follows", "remembers"];
    static readonly string[] Objects = ["the red ball", "a green apple", "the long road", "some warm bread", "the quiet river", "a wooden boat", "the tall tree", "three yellow flowers"];
    static readonly string[] Endings = [".", "!", " today.", " in the morning.", " near the house.", " again and again."];

    /// <summary>Simple English sentences, one text each, from a seeded grammar.</summary>
    public static List<string> English(int count, int seed = 1)
    {
        var random = new Random(seed);
        var texts = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            string sentence = $"{Pick(random, Subjects)} {Pick(random, Verbs)} {Pick(random, Objects)}{Pick(random, Endings)}";
            texts.Add(char.ToUpperInvariant(sentence[0]) + sentence[1..]);
        }
        return texts;
    }

    static readonly string[] ChineseWords = ["我们", "今天", "天气", "很好", "学生", "喜欢", "读书", "老师", "中国", "北京", "朋友", "吃饭", "苹果", "河流", "大树", "小鸟"];

    /// <summary>Chinese-looking text: seeded sequences of a few two-character words, punctuated.</summary>
    public static List<string> Chinese(int count, int seed = 2)
    {
        var random = new Random(seed);
        var texts = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int words = random.Next(3, 9);
            for (int w = 0; w < words; w++)
                sb.Append(Pick(random, ChineseWords));
            sb.Append(random.Next(2) == 0 ? "。" : "，");
            texts.Add(sb.ToString());
        }
        return texts;
    }

    static string Pick(Random random, string[] items) => items[random.Next(items.Length)];
}
