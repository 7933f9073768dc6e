using System.Text;
using System.Text.Json;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

public class TokenizerCommandTests
{
    static string WriteCorpus(string dir, string name, IEnumerable<string> lines)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllLines(path, lines, new UTF8Encoding(false));
        return path;
    }

    static IEnumerable<string> English(int count)
    {
        string[] subjects = ["The cat", "A dog", "My sister", "The farmer", "Our teacher"];
        string[] verbs = ["sees", "likes", "paints", "follows"];
        string[] objects = ["the red ball.", "a green apple.", "the quiet river.", "three yellow flowers."];
        for (int i = 0; i < count; i++)
            yield return $"{subjects[i % 5]} {verbs[i / 5 % 4]} {objects[i / 20 % 4]}";
    }

    static IEnumerable<string> Chinese(int count)
    {
        string[] words = ["我们", "今天", "天气", "很好", "学生", "喜欢", "读书", "老师"];
        for (int i = 0; i < count; i++)
            yield return words[i % 8] + words[i / 8 % 8] + words[(i * 5 + 3) % 8] + "。";
    }

    [Fact]
    public void Train_WritesALoadableModel_PrintsASummary_AndTokenizeUsesIt()
    {
        string dir = TestPaths.NewTempDir();
        string a = WriteCorpus(dir, "a.txt", English(300)), b = WriteCorpus(dir, "b.txt", ["<|im_start|>user hello<|im_end|>"]);
        string outDir = Path.Combine(dir, "tok");
        var r = CliRunner.Run("tokenizer", "train", "--input", a, b, "--vocab-size", "400", "--out", outDir, "--special", "<|im_start|>", "--special", "<|im_end|>");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Matches(@"wrote .*tokenizer\.model: \d{3} pieces", r.StandardOutput);
        Assert.Contains("character coverage 100.00%", r.StandardOutput);
        Assert.Matches(@"\d\.\d{3} tokens per word", r.StandardOutput);

        // The engine's own tokenizer path reads the folder (tokenizer.model inside) and the file.
        var t = CliRunner.Run("tokenize", "--model", outDir, "--json", "--no-bos", "<|im_start|>The cat sees the red ball.");
        Assert.True(t.ExitCode == 0, t.StandardError);
        int[] ids = JsonSerializer.Deserialize<int[]>(t.StandardOutput)!;
        Assert.Equal(3, ids[0]); // <|im_start|>, right after <unk> <s> </s>
        Assert.True(ids.Length <= 8, t.StandardOutput); // every word of the sentence was learned whole
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Train_NoByteFallback_NoDummyPrefix_AndDeterministic()
    {
        string dir = TestPaths.NewTempDir();
        string corpus = WriteCorpus(dir, "a.txt", English(200));
        string[] Args(string outDir) => ["tokenizer", "train", "--input", corpus, "--vocab-size", "60", "--out", outDir, "--no-byte-fallback", "--no-dummy-prefix", "--max-piece-length", "4", "--threads", "1"];
        var first = CliRunner.Run(Args(Path.Combine(dir, "one")));
        Assert.True(first.ExitCode == 0, first.StandardError);
        var second = CliRunner.Run(Args(Path.Combine(dir, "two")));
        Assert.True(second.ExitCode == 0, second.StandardError);
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "one", "tokenizer.model"));
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(dir, "two", "tokenizer.model")));
        Assert.DoesNotContain("<0x00>", Encoding.UTF8.GetString(model));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Extend_AppendsPieces_KeepsOldIds_AndShrinksTheNewLanguage()
    {
        string dir = TestPaths.NewTempDir();
        string english = WriteCorpus(dir, "en.txt", English(400)), chinese = WriteCorpus(dir, "zh.txt", Chinese(400));
        string baseDir = Path.Combine(dir, "base"), extendedDir = Path.Combine(dir, "extended");
        Assert.Equal(0, CliRunner.Run("tokenizer", "train", "--input", english, "--vocab-size", "330", "--out", baseDir).ExitCode);

        var r = CliRunner.Run("tokenizer", "extend", "--base", Path.Combine(baseDir, "tokenizer.model"), "--input", chinese, "--add", "30", "--out", extendedDir);
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Contains("330 base pieces + 30 new = 360", r.StandardOutput);

        int[] Ids(string model, string text)
        {
            var t = CliRunner.Run("tokenize", "--model", model, "--json", "--no-bos", text);
            Assert.True(t.ExitCode == 0, t.StandardError);
            return JsonSerializer.Deserialize<int[]>(t.StandardOutput)!;
        }
        string sentence = "The farmer likes the quiet river.";
        Assert.Equal(Ids(baseDir, sentence), Ids(extendedDir, sentence));
        int[] before = Ids(baseDir, "我们今天很好。"), after = Ids(extendedDir, "我们今天很好。");
        Assert.True(after.Length < before.Length / 3, $"{after.Length} vs {before.Length}");
        Assert.All(after, id => Assert.True(id >= 330, $"id {id} should be a new piece"));
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("train", "--input", "{dir}/missing.txt", "--vocab-size", "300", "--out", "{dir}/o", "missing.txt: input file not found")]
    [InlineData("train", "--input", "{dir}/en.txt", "--vocab-size", "100", "--out", "{dir}/o", "vocabulary size 100 is too small")]
    [InlineData("train", "--input", "{dir}/empty.txt", "--vocab-size", "300", "--out", "{dir}/o", "the training text is empty")]
    [InlineData("extend", "--base", "{dir}/nothing.model", "--input", "{dir}/en.txt", "--add", "5", "--out", "{dir}/o", "nothing.model")]
    public void BadInput_GivesAClearMessage_AndExitCode1(params string[] argsAndMessage)
    {
        string dir = TestPaths.NewTempDir();
        WriteCorpus(dir, "en.txt", English(50));
        File.WriteAllBytes(Path.Combine(dir, "empty.txt"), []);
        var args = argsAndMessage[..^1].Select(a => a.Replace("{dir}", dir)).Prepend("tokenizer").ToArray();
        var r = CliRunner.Run(args);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(argsAndMessage[^1], r.StandardError);
        Assert.StartsWith("error: ", r.StandardError);
        Directory.Delete(dir, true);
    }
}
