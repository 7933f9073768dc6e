using System.Text;
using System.Text.Json;
using Camelid.Formats.Gguf;
using Camelid.Tests;

namespace Camelid.Tokenization.Tests;

/// <summary>Shared test inputs: the tokenizers built from ../shared/data (loaded once) and the reference cases.</summary>
static class TestTokenizers
{
    public const string SpmGguf = "tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf";
    public const string Gpt2Gguf = "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf";
    public const string Llama2Model = "tokenizers/llama2c/tokenizer.model";
    public const string Llama2Bin = "tokenizers/llama2c/tokenizer.bin";
    public const string Tok512Model = "models/tok512.model";
    public const string Tok512Bin = "models/tok512.bin";
    public const string Stories260KGguf = "models/stories260K.gguf";
    public const string TinyRandomGguf = "models/llama-2-tiny-random.gguf";

    static readonly Dictionary<string, Tokenizer> Cache = new();

    /// <summary>A tokenizer by loader name and shared-data path, built once per test run.</summary>
    public static Tokenizer Get(string loader, string relativePath)
    {
        lock (Cache)
        {
            string key = loader + ":" + relativePath;
            if (!Cache.TryGetValue(key, out var tokenizer))
                Cache[key] = tokenizer = Tokenizer.Create(LoadVocabulary(loader, TestPaths.Shared(relativePath)));
            return tokenizer;
        }
    }

    public static Vocabulary LoadVocabulary(string loader, string path) => loader switch
    {
        "gguf" => Gguf(path),
        "model" => TokenizerLoader.FromSentencePieceModel(path),
        "bin" => TokenizerLoader.FromLlama2cTokenizer(path, 0),
        _ => throw new ArgumentException(loader),
    };

    public static Vocabulary Gguf(string path)
    {
        using var gguf = GgufFile.Open(path);
        return TokenizerLoader.FromGguf(gguf.Metadata);
    }

    /// <summary>llama.cpp's test-tokenizer-0 vectors: the .inp split on the separator (final empty piece dropped,
    /// nothing trimmed) and one .out line of space-prefixed ids per string.</summary>
    public static List<(string Text, int[] Ids)> LlamaCppCases(string ggufRelativePath)
    {
        string inp = File.ReadAllText(TestPaths.Shared(ggufRelativePath + ".inp"), new UTF8Encoding(false, true));
        var texts = inp.Split("\n__ggml_vocab_test__\n").ToList();
        Assert.Equal("", texts[^1]);
        texts.RemoveAt(texts.Count - 1);
        var lines = File.ReadAllText(TestPaths.Shared(ggufRelativePath + ".out")).Split('\n').ToList();
        Assert.Equal("", lines[^1]);
        lines.RemoveAt(lines.Count - 1);
        Assert.Equal(texts.Count, lines.Count);
        return texts.Zip(lines, (t, l) => (t, l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray())).ToList();
    }

    public sealed record EncodeCase(string Text, int[] Ids, string Decoded);
    public sealed record DecodeCase(int[] Ids, string Text);
    public sealed record SentencePieceFixture(string Model, List<EncodeCase> Cases, List<DecodeCase> Decode);

    /// <summary>tests/fixtures/tokenizers/NAME.json written by tools/make_tokenizer_fixtures.py.</summary>
    public static SentencePieceFixture Fixture(string name)
    {
        var json = File.ReadAllText(TestPaths.Fixture($"tokenizers/{name}.json"));
        return JsonSerializer.Deserialize<SentencePieceFixture>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
    }

    /// <summary>Encodes every case and fails with a readable report of all mismatches (text, ids and pieces).</summary>
    public static void AssertEncodes(Tokenizer tokenizer, IEnumerable<(string Text, int[] Ids)> cases, string what)
    {
        var report = new StringBuilder();
        int count = 0, failed = 0;
        foreach (var (text, expected) in cases)
        {
            count++;
            var actual = tokenizer.Encode(text, addBos: false);
            if (actual.SequenceEqual(expected))
                continue;
            failed++;
            int first = expected.Zip(actual).TakeWhile(p => p.First == p.Second).Count();
            report.AppendLine($"case {count - 1}: {Escape(text)}")
                .AppendLine($"  expected ({expected.Length}): {string.Join(' ', expected)}")
                .AppendLine($"  actual   ({actual.Length}): {string.Join(' ', actual)}")
                .AppendLine($"  first difference at index {first}; pieces from index {Math.Max(0, first - 4)}:")
                .AppendLine($"  expected pieces: {Pieces(tokenizer, expected.Skip(first - 4).Take(12))}")
                .AppendLine($"  actual pieces:   {Pieces(tokenizer, actual.Skip(first - 4).Take(12))}");
        }
        Assert.True(count > 0, $"{what}: no cases");
        if (failed > 0)
            Assert.Fail($"{what}: {failed} of {count} cases differ\n{report}");
    }

    public static string Pieces(Tokenizer tokenizer, IEnumerable<int> ids) =>
        string.Join(" ", ids.Select(id => id >= 0 && id < tokenizer.VocabSize ? Escape(tokenizer.TokenPiece(id)) : $"<bad {id}>"));

    /// <summary>A quoted string with control characters escaped and everything else readable.</summary>
    public static string Escape(string s) =>
        JsonSerializer.Serialize(s, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
