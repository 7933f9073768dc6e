using Camelid.Data.Instructions;
using Camelid.Tests;

namespace Camelid.Data.Tests.Instructions;

public class RougeLTests
{
    [Theory]
    [InlineData("Hello, World! It's 2024-05-01.", "hello world it s 2024 05 01")]
    [InlineData("  Café naïve  ", "caf na ve")]              // non-ASCII letters separate tokens, as in rouge_score
    [InlineData("ÉCOLE Über", "cole ber")]
    [InlineData("snake_case and CamelCase", "snake case and camelcase")]
    [InlineData("...", "")]
    [InlineData("", "")]
    public void Tokenize_MatchesRougeScoresDefaultTokenizer(string text, string expected)
    {
        Assert.Equal(expected, string.Join(' ', RougeL.Tokenize(text)));
    }

    [Fact]
    public void Score_HandComputed()
    {
        // target 6 tokens, prediction 5, LCS 5: p = 1, r = 5/6, F = 10/11
        Assert.Equal(10.0 / 11, RougeL.Score("the cat sat on the mat", "The cat, on the mat!"), 15);
        Assert.Equal(1.0, RougeL.Score("Same words here", "same WORDS here."));
        Assert.Equal(0.0, RougeL.Score("alpha beta", "gamma delta"));
        Assert.Equal(0.0, RougeL.Score("", "anything"));
    }

    [Fact]
    public void BitParallelLcs_MatchesTheTable_OnRandomPairs()
    {
        var random = new Random(7);
        int[] edgeLengths = [0, 1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193];
        int checkedPairs = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            int m = trial < 144 ? edgeLengths[trial % 12] : random.Next(0, 220);
            int n = trial < 144 ? edgeLengths[trial / 12] : random.Next(0, 220);
            int alphabet = 1 + random.Next(trial % 3 == 0 ? 4 : 60);
            var a = Enumerable.Range(0, m).Select(_ => random.Next(alphabet)).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => random.Next(alphabet)).ToArray();
            Assert.Equal(RougeLReference.Lcs(a, b), BitParallelLcs.Length(a, b));
            checkedPairs++;
        }
        Assert.Equal(3000, checkedPairs);
    }

    [SharedDataFact("instruct/seed_tasks.jsonl")]
    public void Scores_MatchTheReference_OnRealPairs()
    {
        var tasks = SeedTasks.Load(TestPaths.Shared("instruct/seed_tasks.jsonl"));
        var vocabulary = new TokenVocabulary();
        // Instructions (short) and outputs (some longer than 64 and 128 tokens, so the multi-word path runs).
        var texts = tasks.Select(t => t.Instruction).Concat(tasks.Select(t => t.Instances[0].Output)).ToList();
        var tokens = texts.Select(vocabulary.Tokenize).ToList();
        Assert.Contains(tokens, t => t.Length > 128);
        double maxDifference = 0;
        for (int i = 0; i < tokens.Count; i++)
            for (int j = i + 1; j < tokens.Count; j += 3)
            {
                int lcs = BitParallelLcs.Length(tokens[i], tokens[j]);
                Assert.Equal(RougeLReference.Lcs(tokens[i], tokens[j]), lcs);
                double fast = RougeL.FMeasure(lcs, tokens[i].Length, tokens[j].Length);
                maxDifference = Math.Max(maxDifference, Math.Abs(fast - RougeLReference.FMeasure(tokens[i], tokens[j])));
            }
        Assert.Equal(0, maxDifference);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void SimilarityIndex_FindsWhatBruteForceFinds(int maxParallelism)
    {
        var random = new Random(11 + maxParallelism);
        foreach (int poolSize in new[] { 0, 1, 50, 5000 })
        {
            var index = new SimilarityIndex(maxParallelism);
            var pool = new List<int[]>();
            string[] words = [.. Enumerable.Range(0, 12).Select(i => $"w{i}")];
            string RandomText(int length) => string.Join(' ', Enumerable.Range(0, length).Select(_ => words[random.Next(words.Length)]));
            for (int i = 0; i < poolSize; i++)
            {
                string text = RandomText(random.Next(0, i % 50 == 0 ? 140 : 16));
                index.Add(text);
                pool.Add(index.Tokenize(text));
            }
            for (int q = 0; q < 25; q++)
            {
                var query = index.Tokenize(RandomText(random.Next(0, q % 5 == 0 ? 130 : 14)));
                foreach (double floor in new[] { -1, 0.3, 0.7, 0.95 })
                {
                    var expected = RougeLReference.MostSimilar(query, pool, floor);
                    var found = index.MostSimilar(query, floor);
                    Assert.Equal(expected?.Index, found?.Index);
                    Assert.Equal(expected?.Score, found?.Score);
                }
            }
        }
    }

    [Fact]
    public void SimilarityIndex_WhenNothingIsClose_StillFindsTheMostSimilar()
    {
        var index = new SimilarityIndex();
        var random = new Random(5);
        var pool = new List<int[]>();
        for (int i = 0; i < 6000; i++)
        {
            string text = string.Join(' ', Enumerable.Range(0, 12).Select(_ => $"a{random.Next(400)}"));
            index.Add(text);
            pool.Add(index.Tokenize(text));
        }
        var query = index.Tokenize("a1 b2 b3 b4 b5 b6 b7 b8 b9 b10"); // at most one word in common: best score ≤ 0.1
        var expected = RougeLReference.MostSimilar(query, pool, -1);
        Assert.Equal((expected!.Value.Index, expected.Value.Score), (index.MostSimilar(query, -1)!.Value.Index, index.MostSimilar(query, -1)!.Value.Score));
        Assert.InRange(expected.Value.Score, 0.05, 0.1);
        Assert.Null(index.MostSimilar(query, 0.2));
    }

    [SharedDataFact("instruct/seed_tasks.jsonl")]
    public void SimilarityIndex_OnSeedTasks_FindsEachInstructionItself()
    {
        var tasks = SeedTasks.Load(TestPaths.Shared("instruct/seed_tasks.jsonl"));
        var index = new SimilarityIndex();
        foreach (var t in tasks)
            index.Add(t.Instruction);
        for (int i = 0; i < tasks.Count; i++)
        {
            var match = index.MostSimilar(tasks[i].Instruction + " ", 0.7);
            Assert.NotNull(match);
            Assert.Equal(1.0, match.Value.Score);
            Assert.Equal(tasks[i].Instruction, index[match.Value.Index]);
        }
    }
}
