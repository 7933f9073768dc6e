using System.Text;
using System.Text.Json.Nodes;
using Camelid.Formats;
using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

/// <summary>Truncated and corrupted tokenizer files must fail with TokenizerException / ModelFormatException
/// (a message naming the file), never with another exception, a hang or a silently wrong vocabulary.</summary>
public sealed class CorruptFileTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static bool IsFormatError(Exception e) => e is TokenizerException or ModelFormatException;

    /// <summary>Loads, builds and uses the tokenizer; returns the format error if there was one.</summary>
    static Exception? TryUse(Func<Vocabulary> load)
    {
        try
        {
            var tokenizer = Tokenizer.Create(load());
            var ids = tokenizer.Encode("Hello world, 3.14 🦙!", addBos: tokenizer.BosId >= 0);
            tokenizer.Decode(ids);
            return null;
        }
        catch (Exception e) when (IsFormatError(e))
        {
            return e;
        }
    }

    [SharedDataFact(Tok512Model)]
    public void TokenizerModel_EveryTruncation_IsAFormatError()
    {
        var bytes = File.ReadAllBytes(TestPaths.Shared(Tok512Model));
        for (int length = 0; length < bytes.Length; length++)
        {
            var path = WriteBytes("tok512.model", bytes[..length]);
            var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path));
            Assert.Contains(path, e.Message);
        }
    }

    [SharedDataFact(Llama2Model)]
    public void TokenizerModel_Llama2Truncations_AreFormatErrors()
    {
        var bytes = File.ReadAllBytes(TestPaths.Shared(Llama2Model));
        foreach (int length in new[] { 1, 2, 3, 100, 1000, bytes.Length / 2, bytes.Length - 200, bytes.Length - 2, bytes.Length - 1 })
        {
            var path = WriteBytes("tokenizer.model", bytes[..length]);
            Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path));
        }
    }

    [SharedDataFact(Tok512Model)]
    public void TokenizerModel_RandomCorruption_NeverAnotherException()
    {
        var original = File.ReadAllBytes(TestPaths.Shared(Tok512Model));
        var random = new Random(1234);
        int errors = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            var bytes = (byte[])original.Clone();
            for (int k = 0; k < 1 + trial % 4; k++)
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var path = WriteBytes("tok512.model", bytes);
            if (TryUse(() => TokenizerLoader.FromSentencePieceModel(path)) != null)
                errors++;
        }
        Assert.True(errors > 20, $"only {errors} of 400 corruptions were detected");
    }

    [Fact]
    public void TokenizerModel_SpecificDamage_HasClearMessages()
    {
        // field 1 (pieces), length-delimited, claiming 1000 bytes in a 5-byte file
        var path = WriteBytes("a.model", [0x0A, 0xE8, 0x07, 0x0A, 0x00]);
        Assert.Contains("runs past the end", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path)).Message);
        // a varint (of unknown field 99) that never ends
        path = WriteBytes("b.model", [0x98, 0x06, .. Enumerable.Repeat((byte)0xFF, 12)]);
        Assert.Contains("longer than 10 bytes", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path)).Message);
        // not a protobuf at all: text
        path = WriteBytes("c.model", "{\"this\": \"is json\"}"u8.ToArray());
        Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path));
        // empty file
        path = WriteBytes("d.model", []);
        Assert.Contains("no pieces", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path)).Message);
        Assert.Contains("not found", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(Path.Combine(_dir, "missing.model"))).Message);
    }

    [Fact]
    public void TokenizerModel_UnigramModel_IsRejectedClearly()
    {
        // ModelProto { pieces { piece: "<unk>" type: UNKNOWN } trainer_spec { model_type: UNIGRAM } normalizer_spec { } }
        byte[] piece = [0x0A, 0x05, .. "<unk>"u8, 0x18, 0x02];
        byte[] model = [0x0A, (byte)piece.Length, .. piece, 0x12, 0x02, 0x18, 0x01, 0x1A, 0x00];
        var path = WriteBytes("unigram.model", model);
        Assert.Contains("UNIGRAM", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromSentencePieceModel(path)).Message);
    }

    [SharedDataFact(Tok512Bin)]
    public void TokenizerBin_EveryTruncation_IsAFormatError()
    {
        var bytes = File.ReadAllBytes(TestPaths.Shared(Tok512Bin));
        for (int length = 0; length < bytes.Length; length++)
        {
            var path = WriteBytes("tok512.bin", bytes[..length]);
            var e = Record.Exception(() => TokenizerLoader.FromLlama2cTokenizer(path, 512));
            Assert.True(e != null && IsFormatError(e), $"truncated to {length} bytes: {e?.GetType().Name ?? "no exception"}");
        }
    }

    [SharedDataFact(Tok512Bin)]
    public void TokenizerBin_Damage_IsAFormatError()
    {
        var original = File.ReadAllBytes(TestPaths.Shared(Tok512Bin));
        // the first record's length (bytes 8..11) set huge, then negative
        foreach (int bad in new[] { int.MaxValue, -5 })
        {
            var bytes = (byte[])original.Clone();
            BitConverter.GetBytes(bad).CopyTo(bytes, 8);
            var path = WriteBytes("tok512.bin", bytes);
            Assert.True(IsFormatError(Record.Exception(() => TokenizerLoader.FromLlama2cTokenizer(path, 512))!));
        }
        // a piece that is not UTF-8: token 0 "<unk>" starts at byte 12
        var invalid = (byte[])original.Clone();
        invalid[12] = 0xFF;
        var p = WriteBytes("tok512.bin", invalid);
        Assert.Contains("UTF-8", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromLlama2cTokenizer(p, 512)).Message);
        // a wrong vocabulary size
        p = WriteBytes("tok512.bin", original);
        Assert.True(IsFormatError(Record.Exception(() => TokenizerLoader.FromLlama2cTokenizer(p, 32000))!));

        var random = new Random(99);
        for (int trial = 0; trial < 300; trial++)
        {
            var bytes = (byte[])original.Clone();
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var path = WriteBytes("tok512.bin", bytes);
            TryUse(() => TokenizerLoader.FromLlama2cTokenizer(path, 512));
        }
    }

    static JsonObject SmallByteLevelJson()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
            vocab[((char)(b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 ? b : 256 + Enumerable.Range(0, b).Count(c => !(c is >= 33 and <= 126 or >= 161 and <= 172 or >= 174)))).ToString()] = b;
        vocab["he"] = 256;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 257, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray("h e") },
        };
    }

    [Fact]
    public void TokenizerJson_Truncations_AreFormatErrors()
    {
        var bytes = Encoding.UTF8.GetBytes(SmallByteLevelJson().ToJsonString());
        var ok = WriteBytes("tokenizer.json", bytes);
        Assert.Equal([256], Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(ok, null)).Encode("he", false));
        for (int length = 0; length < bytes.Length; length += 7)
        {
            var path = WriteBytes("tokenizer.json", bytes[..length]);
            var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(path, null));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void TokenizerJson_WrongStructure_HasClearMessages()
    {
        string Load(Action<JsonObject> damage)
        {
            var json = SmallByteLevelJson();
            damage(json);
            var path = WriteBytes("tokenizer.json", Encoding.UTF8.GetBytes(json.ToJsonString()));
            return Assert.Throws<TokenizerException>(() => Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(path, null))).Message;
        }
        Assert.Contains("model", Load(j => j.Remove("model")));
        Assert.Contains("Unigram", Load(j => j["model"]!["type"] = "Unigram"));
        Assert.Contains("model.vocab", Load(j => j["model"]!["vocab"] = new JsonArray()));
        Assert.Contains("token id", Load(j => j["model"]!["vocab"]!["he"] = "x"));
        Assert.Contains("token id", Load(j => j["model"]!["vocab"]!["he"] = -4));
        Assert.Contains("merge", Load(j => j["model"]!["merges"] = new JsonArray(new JsonArray("h"))));
        Assert.Contains("not in the vocabulary", Load(j => j["model"]!["merges"] = new JsonArray("q z")));
        Assert.Contains("not in the vocabulary", Load(j => j["model"]!["merges"] = new JsonArray(new JsonArray("\u00e9\u00e9", "x"))));
        Assert.Contains("added_tokens", Load(j => j["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 3 })));
        Assert.Contains("SentencePiece", Load(j => j.Remove("pre_tokenizer")));
        var array = WriteBytes("tokenizer.json", "[1, 2]"u8.ToArray());
        Assert.Contains("top level", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(array, null)).Message);
        var notUtf8 = WriteBytes("tokenizer.json", [.. "{\"model\": \""u8, 0xB7, .. "\"}"u8]);
        Assert.Contains("UTF-8", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(notUtf8, null)).Message);
        // an escaped lone surrogate is legal JSON: it loads and stays usable
        var surrogate = WriteBytes("tokenizer.json", Encoding.UTF8.GetBytes(SmallByteLevelJson().ToJsonString().Replace("<|endoftext|>", "\\uD800")));
        var withSurrogate = Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(surrogate, null));
        Assert.Equal([256], withSurrogate.Encode("he", addBos: false));
        Assert.Equal([0xEF, 0xBF, 0xBD], withSurrogate.Encode("\uD800", addBos: false)); // as text: UTF-8 of U+FFFD
    }

    [Fact]
    public void TokenizerConfig_UnknownBosToken_IsAFormatError()
    {
        var json = WriteBytes("tokenizer.json", Encoding.UTF8.GetBytes(SmallByteLevelJson().ToJsonString()));
        var config = WriteBytes("tokenizer_config.json", "{\"bos_token\": \"<s>\"}"u8.ToArray());
        Assert.Contains("'<s>'", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(json, config)).Message);
        config = WriteBytes("tokenizer_config.json", "{\"bos_token\": 5}"u8.ToArray());
        Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(json, config));
        config = WriteBytes("tokenizer_config.json", "{\"bos_token\": "u8.ToArray());
        Assert.Contains("JSON", Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(json, config)).Message);
    }

    [Fact]
    public void TokenizerJson_RandomCorruption_NeverAnotherException()
    {
        var original = Encoding.UTF8.GetBytes(SmallByteLevelJson().ToJsonString());
        var random = new Random(7);
        int errors = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            var bytes = (byte[])original.Clone();
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            var path = WriteBytes("tokenizer.json", bytes);
            if (TryUse(() => TokenizerLoader.FromHfTokenizerJson(path, null)) != null)
                errors++;
        }
        Assert.True(errors > 100, $"only {errors} of 400 corruptions were detected");
    }

    [Fact]
    public void GgufMetadata_BadTokenizerKeys_AreFormatErrors()
    {
        Exception Load(params (string, object)[] entries) => Record.Exception(() =>
            Tokenizer.Create(TokenizerLoader.FromGguf(new Metadata(entries.ToDictionary(e => e.Item1, e => e.Item2), "bad.gguf"))))!;
        var tokens = ("tokenizer.ggml.tokens", (object)new[] { "<unk>", "<s>", "</s>" });
        var model = ("tokenizer.ggml.model", (object)"llama");
        Assert.True(Load(tokens) is ModelFormatException);                              // no model key
        Assert.Contains("tokens", Load(model).Message);                                // no tokens
        Assert.Contains("bad.gguf", Load(model, tokens, ("tokenizer.ggml.scores", new float[2])).Message);
        Assert.Contains("type 9", Load(model, tokens, ("tokenizer.ggml.token_type", new[] { 2, 3, 9 })).Message);
        Assert.Contains("eos_token_id", Load(model, tokens, ("tokenizer.ggml.eos_token_id", 7u)).Message);
        Assert.True(Load(model, ("tokenizer.ggml.tokens", 5)) is ModelFormatException);  // wrong value type
        Assert.Contains("'t5'", Load(("tokenizer.ggml.model", "t5"), tokens).Message);
    }
}
