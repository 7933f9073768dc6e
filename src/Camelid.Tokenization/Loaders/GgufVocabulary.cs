// GGUF tokenizer keys (llama.cpp src/llama-vocab.cpp, gguf-py/gguf/constants.py):
//   tokenizer.ggml.model       string   "llama" (SentencePiece BPE) | "gpt2" (byte-level BPE) | others (unsupported)
//   tokenizer.ggml.pre         string   byte-level split regex name: "default", "gpt-2", "llama-bpe", ...
//   tokenizer.ggml.tokens      string[] pieces by id
//   tokenizer.ggml.scores      f32[]    SentencePiece scores (optional)
//   tokenizer.ggml.token_type  i32[]    1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte (0 = undefined -> normal)
//   tokenizer.ggml.merges      string[] "left right", byte-level BPE only
//   tokenizer.ggml.{bos,eos,unknown,padding,eot,eom}_token_id  u32 (0xFFFFFFFF or -1 = none)
//   tokenizer.ggml.add_bos_token / add_eos_token / add_space_prefix / remove_extra_whitespaces  bool
// Defaults follow llama.cpp: for "llama" BOS 1, EOS 2, UNK 0, add BOS, add space prefix; for "gpt2" no BOS added,
// no space prefix.
using Camelid.Formats;

namespace Camelid.Tokenization;

public static partial class TokenizerLoader
{
    const string GgufPrefix = "tokenizer.ggml.";

    /// <summary>The tokenizer stored in a GGUF file's metadata.</summary>
    public static Vocabulary FromGguf(Metadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string model = metadata.GetString(GgufPrefix + "model");
        var tokens = metadata.TryGetStringArray(GgufPrefix + "tokens")
            ?? throw new TokenizerException($"{metadata.Source}: GGUF has no '{GgufPrefix}tokens'; it holds no tokenizer (pass a tokenizer file)");
        var scores = metadata.TryGetFloatArray(GgufPrefix + "scores");
        var types = metadata.TryGetInt32Array(GgufPrefix + "token_type") is { } rawTypes ? ToTokenTypes(rawTypes, metadata.Source) : null;
        var merges = metadata.TryGetStringArray(GgufPrefix + "merges");
        bool spm = model == Vocabulary.SentencePieceModel;

        int? TokenId(string key, int? fallback)
        {
            long? value = metadata.TryGetInt64(GgufPrefix + key);
            if (value is null)
                return fallback;
            if (value is -1 or 0xFFFFFFFF)
                return null;
            if (value < 0 || value >= tokens.Length)
                throw new TokenizerException($"{metadata.Source}: '{GgufPrefix}{key}' = {value} is outside the vocabulary (0..{tokens.Length - 1})");
            return (int)value;
        }

        int? endOfText = Array.IndexOf(tokens, "<|endoftext|>") is var e and >= 0 ? e : null;
        int bos = TokenId("bos_token_id", spm ? 1 : endOfText) ?? -1;
        int eos = TokenId("eos_token_id", spm ? 2 : endOfText) ?? -1;
        int? unk = TokenId("unknown_token_id", spm ? 0 : null);
        int? pad = TokenId("padding_token_id", null);
        var explicitEnds = new[] { TokenId("eot_token_id", null), TokenId("eom_token_id", null) };

        var vocabulary = new Vocabulary(
            model,
            metadata.GetStringOrNull(GgufPrefix + "pre"),
            tokens,
            scores,
            types,
            merges,
            bos,
            eos,
            unk,
            pad,
            AddBos: metadata.TryGetBool(GgufPrefix + "add_bos_token") ?? spm,
            AddEos: metadata.TryGetBool(GgufPrefix + "add_eos_token") ?? false,
            AddSpacePrefix: metadata.TryGetBool(GgufPrefix + "add_space_prefix") ?? spm)
        {
            RemoveExtraWhitespaces = metadata.TryGetBool(GgufPrefix + "remove_extra_whitespaces") ?? false,
        };
        return vocabulary with { ExtraEosIds = EndOfGeneration.ExtraIds(tokens, WithChecks(vocabulary, metadata.Source).TypeOf, eos, explicitEnds) };
    }

    static TokenType[] ToTokenTypes(int[] raw, string source)
    {
        var types = new TokenType[raw.Length];
        for (int i = 0; i < raw.Length; i++)
            types[i] = raw[i] switch
            {
                0 => TokenType.Normal, // LLAMA_TOKEN_TYPE_UNDEFINED
                >= 1 and <= 6 => (TokenType)raw[i],
                _ => throw new TokenizerException($"{source}: token {i} has unknown token type {raw[i]} (expected 0..6); the file is corrupted"),
            };
        return types;
    }

    /// <summary>Validates before anything indexes the arrays; the message names the file.</summary>
    static Vocabulary WithChecks(Vocabulary v, string source)
    {
        try
        {
            v.Validate();
        }
        catch (TokenizerException e)
        {
            throw new TokenizerException($"{source}: {e.Message}");
        }
        return v;
    }
}
