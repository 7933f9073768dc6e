using System.Text;
using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tests;
using Camelid.Tokenization;

namespace Camelid.Training.Tests.Data;

/// <summary>Tokenizers for the data tests (each built once) and helpers to read tokens back as exact text.</summary>
static class DataTestTokenizers
{
    public const string Llama2Model = "tokenizers/llama2c/tokenizer.model";
    public const string Gpt2Gguf = "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf";
    public const string Tok512Model = "models/tok512.model";
    public const string Stories260KGguf = "models/stories260K.gguf";
    public const string DummyConversations = "conversations/dummy_conversation.json";

    /// <summary>The control tokens of the ChatML and LLaMA-3 formats, appended to the synthetic vocabulary.</summary>
    public static readonly string[] ChatControlTokens =
        ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    static readonly Dictionary<string, Tokenizer> Cache = [];

    /// <summary>
    /// A LLaMA-like SentencePiece vocabulary built in memory (no shared data needed): 4000 pieces of
    /// <see cref="SyntheticVocabulary"/> plus <see cref="ChatControlTokens"/> as control tokens.
    /// </summary>
    public static Tokenizer Synthetic => Get("synthetic", () =>
    {
        var synthetic = SyntheticVocabulary.Create(4000);
        var tokens = synthetic.Tokens.Concat(ChatControlTokens).ToArray();
        var scores = synthetic.Scores.Concat(ChatControlTokens.Select(_ => 0f)).ToArray();
        var types = synthetic.TokenTypes.Select(t => (TokenType)t).Concat(ChatControlTokens.Select(_ => TokenType.Control)).ToArray();
        return Tokenizer.Create(new Vocabulary(Vocabulary.SentencePieceModel, null, tokens, scores, types, null,
            SyntheticVocabulary.BosId, SyntheticVocabulary.EosId, SyntheticVocabulary.UnknownId, null,
            AddBos: true, AddEos: false, AddSpacePrefix: true));
    });

    /// <summary>A tokenizer from ../shared/data by relative path (SentencePiece .model or GGUF).</summary>
    public static Tokenizer Shared(string relative) => Get(relative, () =>
        relative.EndsWith(".model", StringComparison.Ordinal)
            ? Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(TestPaths.Shared(relative)))
            : LlamaModel.LoadTokenizer(TestPaths.Shared(relative)));

    /// <summary>"synthetic" or a shared-data path.</summary>
    public static Tokenizer ByName(string name) => name == "synthetic" ? Synthetic : Shared(name);

    static Tokenizer Get(string key, Func<Tokenizer> create)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(key, out var tokenizer))
                Cache[key] = tokenizer = create();
            return tokenizer;
        }
    }

    /// <summary>
    /// The exact text of tokens: each token's bytes (a SentencePiece "▁" is a space, never dropped at the start), and
    /// a control token's vocabulary string, so "&lt;/s&gt;" reads "&lt;/s&gt;".
    /// </summary>
    public static string Text(Tokenizer tokenizer, IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
            bytes.AddRange(tokenizer.IsControl(id) ? Encoding.UTF8.GetBytes(tokenizer.TokenPiece(id)) : tokenizer.TokenBytes(id));
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Maximal runs of consecutive trained positions, as (start, length).</summary>
    public static List<(int Start, int Length)> TrainedRuns(bool[] trained)
    {
        var runs = new List<(int, int)>();
        for (int i = 0; i < trained.Length;)
        {
            if (!trained[i])
            {
                i++;
                continue;
            }
            int start = i;
            while (i < trained.Length && trained[i])
                i++;
            runs.Add((start, i - start));
        }
        return runs;
    }

    public static string Escape(string s) => System.Text.Json.JsonSerializer.Serialize(s,
        new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
