using System.Text.Json;
using Camelid.Data.Formats;
using Camelid.Tests;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Data;
using static Camelid.Training.Tests.Data.DataTestTokenizers;

namespace Camelid.Training.Tests.Data;

/// <summary>Streaming thousands of examples through the binary token cache, reusing it, and refusing damaged ones.</summary>
public class TokenCacheTests
{
    static readonly string[] Words =
        ["the", "llama", "eats", "green", "grass", "on", "a", "sunny", "hill", "and", "sleeps", "under", "big", "old", "tree", "near", "river"];

    /// <summary>Deterministic varied records: lengths from a few tokens to past the maximum length.</summary>
    static AlpacaRecord GeneratedAlpaca(int i)
    {
        string Sentence(int seed, int words) => string.Join(" ", Enumerable.Range(0, words).Select(k => Words[(seed * 7 + k * 13 + k * k) % Words.Length]));
        return new AlpacaRecord($"Write about llama {i}: {Sentence(i, 3 + i % 5)}.", i % 3 == 0 ? Sentence(i + 1, 4) : "", Sentence(i + 2, 2 + i * 37 % 60));
    }

    [Fact]
    public void Three_thousand_generated_examples_round_trip_through_the_cache()
    {
        const int count = 3000, maxLength = 160;
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "generated.jsonl");
            DataFile.Write(path, Enumerable.Range(0, count).Select(GeneratedAlpaca));
            string cachePath = Path.Combine(dir, "data", "train.tokens");
            using var data = TrainingData.Prepare([new DataSource(path)], Synthetic, new TrainingDataOptions { MaxLength = maxLength }, cachePath);

            var spans = new SpanTokenizer(Synthetic);
            int truncated = 0;
            long tokens = 0, trainedTokens = 0;
            Assert.Equal(count, data.Train.Count);
            for (int i = 0; i < count; i++)
            {
                var (expectedTokens, expectedTrained) = AlpacaTrainingPrompt.Encode(spans, GeneratedAlpaca(i), qualityTag: null);
                int kept = Math.Min(expectedTokens.Length, maxLength + 1);
                truncated += kept < expectedTokens.Length ? 1 : 0;
                var (cachedTokens, cachedTrained) = data.Train[i];
                Assert.Equal(expectedTokens[..kept], cachedTokens);
                Assert.Equal(expectedTrained[..kept], cachedTrained);
                tokens += kept;
                trainedTokens += cachedTrained.Count(t => t);
            }
            Assert.InRange(truncated, 100, count - 100); // the generator makes both kinds
            var report = data.Report.Sources[0];
            Assert.Equal((count, count, truncated, tokens, trainedTokens), (report.Read, report.Examples, report.Truncated, report.Tokens, report.TrainedTokens));
            // The layout the cache documents: header, 4 bytes per token, the (count + 1) offsets, then the metadata.
            var header = File.ReadAllBytes(cachePath).AsSpan(0, TokenCache.HeaderSize).ToArray();
            Assert.Equal("CMLTOKS1"u8.ToArray(), header[..8]);
            Assert.Equal(count, BitConverter.ToInt64(header, 16));
            Assert.Equal(tokens, BitConverter.ToInt64(header, 24));
            long metadataLength = BitConverter.ToInt64(header, 48);
            Assert.Equal(TokenCache.HeaderSize + 4 * tokens + 8 * (count + 1) + metadataLength, new FileInfo(cachePath).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_ShareGPT_array_streams_into_the_same_examples_as_encoding_each_record()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "chats.json");
            var conversations = Enumerable.Range(0, 2000).Select(i => new ShareGptConversation($"chat_{i}",
            [
                new ShareGptTurn("human", GeneratedAlpaca(i).Instruction),
                new ShareGptTurn("gpt", GeneratedAlpaca(i).Output),
            ])).ToList();
            DataFile.Write(path, conversations);
            var template = ChatTemplates.Get("llama-2");
            using var data = TrainingData.Prepare([new DataSource(path)], Synthetic,
                new TrainingDataOptions { MaxLength = 1024, ChatTemplate = template }, Path.Combine(dir, "train.tokens"));
            var spans = new SpanTokenizer(Synthetic);
            for (int i = 0; i < conversations.Count; i++)
            {
                var messages = ConversationExamples.ToMessages(conversations[i], null, out _, out _)!;
                var expected = ConversationExamples.Encode(spans, template, messages);
                Assert.Equal(expected.Tokens, data.Train[i].Tokens);
                Assert.Equal(expected.Trained, data.Train[i].Trained);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_cache_built_from_the_same_inputs_is_reused_and_any_change_rebuilds_it()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "data.jsonl");
            DataFile.Write(path, Enumerable.Range(0, 50).Select(GeneratedAlpaca));
            string cachePath = Path.Combine(dir, "train.tokens");
            var options = new TrainingDataOptions { MaxLength = 256 };
            TrainingData.Prepare([new DataSource(path)], Synthetic, options, cachePath).Dispose();
            var built = File.GetLastWriteTimeUtc(cachePath);
            File.SetLastWriteTimeUtc(cachePath, built.AddHours(-1)); // so a rewrite would show

            TrainingData.Prepare([new DataSource(path)], Synthetic, options with { Seed = 5, ValidationFraction = 0.1 }, cachePath).Dispose();
            Assert.Equal(built.AddHours(-1), File.GetLastWriteTimeUtc(cachePath)); // split and seed do not touch the cache

            using (var shorter = TrainingData.Prepare([new DataSource(path)], Synthetic, options with { MaxLength = 200 }, cachePath))
                Assert.Equal(200, shorter.Report.MaxLength);
            Assert.NotEqual(built.AddHours(-1), File.GetLastWriteTimeUtc(cachePath));

            DataFile.Write(path, Enumerable.Range(0, 60).Select(GeneratedAlpaca)); // the source changed
            using var changed = TrainingData.Prepare([new DataSource(path)], Synthetic, options with { MaxLength = 200 }, cachePath);
            Assert.Equal(60, changed.Train.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_truncated_cache_is_refused_on_open_and_rebuilt_by_prepare()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "data.jsonl");
            DataFile.Write(path, Enumerable.Range(0, 20).Select(GeneratedAlpaca));
            string cachePath = Path.Combine(dir, "train.tokens");
            var options = new TrainingDataOptions { MaxLength = 256 };
            int expected;
            using (var data = TrainingData.Prepare([new DataSource(path)], Synthetic, options, cachePath))
                expected = data.Train.Count;

            using (var file = new FileStream(cachePath, FileMode.Open))
                file.SetLength(file.Length - 10);
            var error = Assert.Throws<InvalidDataException>(() => TrainingData.Open(cachePath, options));
            Assert.Contains("do not add up", error.Message);

            File.WriteAllBytes(cachePath, Enumerable.Repeat((byte)'x', 200).ToArray());
            Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => TrainingData.Open(cachePath, options)).Message);

            using var rebuilt = TrainingData.Prepare([new DataSource(path)], Synthetic, options, cachePath);
            Assert.Equal(expected, rebuilt.Train.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Opening_with_another_maximum_length_than_the_cache_was_built_for_is_an_error()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "data.jsonl");
            DataFile.Write(path, Enumerable.Range(0, 5).Select(GeneratedAlpaca));
            string cachePath = Path.Combine(dir, "train.tokens");
            TrainingData.Prepare([new DataSource(path)], Synthetic, new TrainingDataOptions { MaxLength = 256 }, cachePath).Dispose();
            var error = Assert.Throws<ArgumentException>(() => TrainingData.Open(cachePath, new TrainingDataOptions { MaxLength = 512 }));
            Assert.Contains("maximum length of 256", error.Message);
            using var reopened = TrainingData.Open(cachePath, new TrainingDataOptions { MaxLength = 256 });
            Assert.Equal(5, reopened.Train.Count);
            Assert.Equal(5, reopened.Report.Examples);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
