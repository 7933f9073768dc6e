using System.Text.Json.Nodes;
using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

/// <summary>tokenizer.json loading: tiny hand-made vocabularies with hand-computed ids, and the two llama.cpp
/// vocabularies re-exported as tokenizer.json, which must tokenize exactly like the GGUF originals.</summary>
public sealed class HfTokenizerJsonTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, JsonNode json)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    static JsonObject Token(int id, string content, bool special) =>
        new() { ["id"] = id, ["content"] = content, ["special"] = special, ["normalized"] = false };

    static JsonObject SentencePieceNormalizer() => new()
    {
        ["type"] = "Sequence",
        ["normalizers"] = new JsonArray(
            new JsonObject { ["type"] = "Prepend", ["prepend"] = "\u2581" },
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "\u2581" }),
    };

    // ---- tiny SentencePiece-style BPE with byte fallback (LLaMA-2 tokenizer.json layout) ----
    // ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, 259 ▁, 260 h, 261 e, 262 l, 263 o,
    //      264 ▁h, 265 ll, 266 ▁he, 267 ▁hell, 268 ▁hello, 269 <|user|> (added, not special)
    static JsonObject TinySentencePieceJson(JsonNode? normalizer, JsonNode? preTokenizer, bool pairMerges)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++)
            vocab[$"<0x{b:X2}>"] = 3 + b;
        string[] pieces = ["\u2581", "h", "e", "l", "o", "\u2581h", "ll", "\u2581he", "\u2581hell", "\u2581hello"];
        for (int i = 0; i < pieces.Length; i++)
            vocab[pieces[i]] = 259 + i;
        (string, string)[] merges = [("\u2581", "h"), ("l", "l"), ("\u2581h", "e"), ("\u2581he", "ll"), ("\u2581hell", "o")];
        var mergeArray = new JsonArray();
        foreach (var (a, b) in merges)
            mergeArray.Add(pairMerges ? new JsonArray(a, b) : JsonValue.Create($"{a} {b}"));
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Token(0, "<unk>", true), Token(1, "<s>", true), Token(2, "</s>", true), Token(269, "<|user|>", false)),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["byte_fallback"] = true, ["fuse_unk"] = true,
                ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };
    }

    static void AssertTinySentencePiece(Tokenizer t)
    {
        Assert.Equal("llama", t.Vocabulary.Model);
        Assert.Equal(270, t.VocabSize);
        Assert.Equal((1, 2, true), (t.BosId, t.EosId, t.AddBosByDefault));
        Assert.Equal(TokenType.Unknown, t.TypeOf(0));
        Assert.Equal(TokenType.Control, t.TypeOf(1));
        Assert.Equal(TokenType.Byte, t.TypeOf(3 + 'A'));
        Assert.Equal(TokenType.UserDefined, t.TypeOf(269));
        // "▁hello ▁hello": ▁h(0) → ▁he(2), ll(1) → ▁hell(3) → ▁hello(4)
        Assert.Equal([1, 268, 268], t.Encode("hello hello", addBos: true));
        // "▁help!": p and ! are not pieces -> byte fallback
        Assert.Equal([266, 262, 3 + 'p', 3 + '!'], t.Encode("help!", addBos: false));
        // "é" is two UTF-8 bytes; the dummy prefix stays a lone ▁
        Assert.Equal([259, 3 + 0xC3, 3 + 0xA9], t.Encode("é", addBos: false));
        // a user-defined token is always split out; the text after it gets a dummy prefix again (llama.cpp)
        Assert.Equal([266, 262, 269, 268], t.Encode("hel<|user|>hello", addBos: false));
        // control tokens only with parseSpecial
        Assert.Equal([1, 268, 2], t.Encode("<s>hello</s>", addBos: false, parseSpecial: true));
        Assert.Equal("hello hello", t.Decode([1, 268, 268, 2]));
        Assert.Equal("help!", t.Decode(t.Encode("help!", addBos: true)));
    }

    [Fact]
    public void SentencePieceStyle_WithConfig_HandComputedIds()
    {
        var json = Write("tokenizer.json", TinySentencePieceJson(SentencePieceNormalizer(), null, pairMerges: false));
        var config = Write("tokenizer_config.json", new JsonObject
        {
            ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["bos_token"] = new JsonObject { ["content"] = "<s>", ["lstrip"] = false }, ["eos_token"] = "</s>",
        });
        AssertTinySentencePiece(Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(json, config)));
    }

    [Fact]
    public void SentencePieceStyle_MetaspaceAndPairMerges_NoConfig_SameIds()
    {
        var metaspace = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "first", ["split"] = false };
        var json = Write("tokenizer.json", TinySentencePieceJson(null, metaspace, pairMerges: true));
        AssertTinySentencePiece(Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(json, null)));
    }

    [Fact]
    public void SentencePieceStyle_ConfigCanTurnOffBos()
    {
        var json = Write("tokenizer.json", TinySentencePieceJson(SentencePieceNormalizer(), null, pairMerges: false));
        var config = Write("tokenizer_config.json", new JsonObject { ["add_bos_token"] = false, ["bos_token"] = "<s>", ["eos_token"] = "</s>" });
        Assert.False(TokenizerLoader.FromHfTokenizerJson(json, config).AddBos);
    }

    // ---- tiny byte-level BPE (GPT-2 layout) ----
    // ids 0..255: the one-character token of byte b is id b; 256 Ġt, 257 he, 258 Ġthe, 259 re, 260 Ġthere,
    // 261 <|endoftext|> (special), 262 "34", 263 (byte 0x80)+"a", 264 (byte 0xA2)+"x". The last two merge across the
    // end of 😀 (F0 9F 98 80) / 𝔢 (F0 9D 94 A2) and a following letter, so they show where the split regex cut.
    static JsonObject TinyByteLevelJson(JsonNode preTokenizer)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
            vocab[Gpt2Char(b).ToString()] = b;
        string[] merged = ["\u0120t", "he", "\u0120the", "re", "\u0120there"];
        for (int i = 0; i < merged.Length; i++)
            vocab[merged[i]] = 256 + i;
        vocab["34"] = 262;
        vocab[Gpt2Char(0x80) + "a"] = 263;
        vocab[Gpt2Char(0xA2) + "x"] = 264;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(Token(261, "<|endoftext|>", true)),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["trim_offsets"] = false },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = vocab,
                ["merges"] = new JsonArray("\u0120 t", "h e", "\u0120t he", "r e", "\u0120the re", "3 4", $"{Gpt2Char(0x80)} a", $"{Gpt2Char(0xA2)} x"),
            },
        };
    }

    /// <summary>GPT-2's bytes_to_unicode, written out independently of the tokenizer's own table.</summary>
    static char Gpt2Char(int b)
    {
        bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        if (printable)
            return (char)b;
        int n = 0;
        for (int c = 0; c < b; c++)
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255)))
                n++;
        return (char)(256 + n);
    }

    [Fact]
    public void ByteLevel_HandComputedIds()
    {
        var pre = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var t = Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", TinyByteLevelJson(pre)), null));
        Assert.Equal(("gpt2", "gpt-2"), (t.Vocabulary.Model, t.Vocabulary.Pre));
        Assert.Equal((261, 261, false), (t.BosId, t.EosId, t.AddBosByDefault));
        // pre-tokens "the" | " there": t,h,e -> t he ; Ġ,t,h,e,r,e -> Ġt he re -> Ġthe re -> Ġthere
        Assert.Equal(['t', 257, 260], t.Encode("the there", addBos: false));
        Assert.Equal([261, 'a', 261], t.Encode("<|endoftext|>a<|endoftext|>", addBos: false, parseSpecial: true));
        // without parseSpecial the special token is plain text: "<|", "endoftext", "|>" pre-tokens, one id per byte
        Assert.Equal("<|endoftext|>".Select(c => (int)c).ToArray(), t.Encode("<|endoftext|>", addBos: false));
        Assert.Equal([32, 0xC3, 0xA9], t.Encode(" é", addBos: false));
        Assert.Equal("the there é", t.Decode(t.Encode("the there é", addBos: false)));
        Assert.Equal(" there", t.Decode([260, 261], skipSpecial: true));
        // GPT-2's regex keeps digits together; an emoji and the letters after it are separate pieces; an astral
        // letter (U+1D522) and the letters after it are one piece, as in Python's regex module
        Assert.Equal(['1', '2', 262, '5'], t.Encode("12345", addBos: false));
        Assert.Equal([0xF0, 0x9F, 0x98, 0x80, 'a', 'b'], t.Encode("\U0001F600ab", addBos: false));
        Assert.Equal([0xF0, 0x9D, 0x94, 264], t.Encode("\U0001D522x", addBos: false));
        Assert.Equal(" there<|endoftext|>", t.Decode([260, 261], skipSpecial: false));
    }

    [Fact]
    public void ByteLevel_AddPrefixSpace_PrependsASpace()
    {
        var pre = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["use_regex"] = true };
        var t = Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", TinyByteLevelJson(pre)), null));
        Assert.Equal([258], t.Encode("the", addBos: false));
        Assert.Equal([260], t.Encode(" there", addBos: false));
    }

    [Fact]
    public void ByteLevel_Llama3SplitPattern_IsRecognised()
    {
        var pre = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = LlamaThreePattern }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
        };
        var json = TinyByteLevelJson(pre);
        json["model"]!["ignore_merges"] = true;
        var t = Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", json), null));
        Assert.Equal("llama-bpe", t.Vocabulary.Pre);
        Assert.Equal(['t', 257, 260], t.Encode("the there", addBos: false));
        // LLaMA-3 splits digits in groups of three ("123" "45": no "34"); one non-letter may lead a run of letters,
        // and a character outside the BMP counts as one character there (not as two surrogates)
        Assert.Equal("12345".Select(c => (int)c).ToArray(), t.Encode("12345", addBos: false));
        Assert.Equal([0xF0, 0x9F, 0x98, 263, 'b'], t.Encode("\U0001F600ab", addBos: false));
        Assert.Equal("\U0001F600ab", t.Decode(t.Encode("\U0001F600ab", addBos: false)));
    }

    const string LlamaThreePattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void ByteLevel_UnknownSplitPattern_IsAClearError()
    {
        var pre = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\w+" } },
                new JsonObject { ["type"] = "ByteLevel", ["use_regex"] = false }),
        };
        var e = Assert.Throws<TokenizerException>(() => TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", TinyByteLevelJson(pre)), null));
        Assert.Contains("\\w+", e.Message);
    }

    // ---- the llama.cpp vocabularies re-exported as tokenizer.json ----

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp", Gpt2Gguf + ".out")]
    public void Gpt2Gguf_ExportedAsTokenizerJson_MatchesConformanceVectors()
    {
        var v = Gguf(TestPaths.Shared(Gpt2Gguf));
        var vocab = new JsonObject();
        for (int id = 0; id < v.Tokens.Count; id++)
            if (v.Types![id] != TokenType.Control)
                vocab[v.Tokens[id]] = id;
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(Token(50256, "<|endoftext|>", true)),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray(v.Merges!.Select(m => JsonValue.Create(m)).ToArray<JsonNode?>()) },
        };
        var fromJson = TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", json), null);
        Assert.Equal(v.Tokens, fromJson.Tokens);
        Assert.Equal(v.Merges, fromJson.Merges);
        Assert.Equal((v.BosId, v.EosId, v.AddBos), (fromJson.BosId, fromJson.EosId, fromJson.AddBos));
        var tokenizer = Tokenizer.Create(fromJson);
        AssertEncodes(tokenizer, LlamaCppCases(Gpt2Gguf), "gpt-2 as tokenizer.json");
        var fromGguf = Get("gguf", Gpt2Gguf);
        foreach (var (text, _) in LlamaCppCases(Gpt2Gguf))
            Assert.Equal(fromGguf.Encode(text, false, parseSpecial: true), tokenizer.Encode(text, false, parseSpecial: true));
    }

    [SharedDataFact(SpmGguf, SpmGguf + ".inp", SpmGguf + ".out")]
    public void LlamaSpmGguf_ExportedAsTokenizerJson_MatchesConformanceVectorsAndSentencePiece()
    {
        // Export the way HF's SentencePiece converter does: merges are every split of a piece into two pieces,
        // ordered by the piece's score (highest first).
        var v = Gguf(TestPaths.Shared(SpmGguf));
        var ids = new Dictionary<string, int>();
        var vocab = new JsonObject();
        for (int id = 0; id < v.Tokens.Count; id++)
        {
            vocab[v.Tokens[id]] = id;
            ids[v.Tokens[id]] = id;
        }
        bool Mergeable(int id) => v.Types![id] is TokenType.Normal or TokenType.UserDefined;
        var merges = new List<(float Score, int Id, string Left, string Right)>();
        for (int id = 0; id < v.Tokens.Count; id++)
        {
            if (!Mergeable(id))
                continue;
            var piece = v.Tokens[id];
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsLowSurrogate(piece[split]))
                    continue;
                if (ids.TryGetValue(piece[..split], out int l) && Mergeable(l) && ids.TryGetValue(piece[split..], out int r) && Mergeable(r))
                    merges.Add((v.Scores![id], id, piece[..split], piece[split..]));
            }
        }
        var ordered = merges.OrderByDescending(m => m.Score).ThenBy(m => m.Id).Select(m => (JsonNode?)new JsonArray(m.Left, m.Right)).ToArray();
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(Token(0, "<unk>", true), Token(1, "<s>", true), Token(2, "</s>", true)),
            ["normalizer"] = SentencePieceNormalizer(),
            ["model"] = new JsonObject { ["type"] = "BPE", ["unk_token"] = "<unk>", ["byte_fallback"] = true, ["vocab"] = vocab, ["merges"] = new JsonArray(ordered) },
        };
        var fromJson = TokenizerLoader.FromHfTokenizerJson(Write("tokenizer.json", json), null);
        Assert.Equal(v.Tokens, fromJson.Tokens);
        Assert.Equal(v.Types, fromJson.Types);
        Assert.Equal((1, 2, 0, true, true), (fromJson.BosId, fromJson.EosId, fromJson.UnknownId, fromJson.AddBos, fromJson.AddSpacePrefix));
        var tokenizer = Tokenizer.Create(fromJson);
        AssertEncodes(tokenizer, LlamaCppCases(SpmGguf), "llama-spm as tokenizer.json");
        AssertEncodes(tokenizer, Fixture("llama2").Cases.Select(c => (c.Text, c.Ids)), "llama-spm as tokenizer.json, sentencepiece fixture");
    }
}
