// Hugging Face tokenizers' tokenizer.json (the "tokenizers" library serialization), the parts used here:
//   model:          {"type": "BPE", "vocab": {token: id}, "merges": ["a b", ...] or [["a", "b"], ...],
//                    "byte_fallback": bool, "unk_token": string|null, "ignore_merges": bool}
//   added_tokens:   [{"id", "content", "special"}]   special -> control token, otherwise user-defined
//   normalizer / pre_tokenizer / decoder / post_processor: objects with a "type", possibly "Sequence" of several.
// Two BPE flavours are recognised:
//   * byte-level (GPT-2, LLaMA-3): a ByteLevel pre-tokenizer or decoder. The split regex is ByteLevel's own
//     (use_regex) or a Split pre-tokenizer's pattern, which must be GPT-2's or LLaMA-3's.
//   * SentencePiece exported to BPE (LLaMA-1/2, Mistral): normalizer Prepend("▁") + Replace(" ", "▁"), or a Metaspace
//     pre-tokenizer; byte_fallback for unknown characters. Merges are turned into SentencePiece scores: a piece
//     scores -(rank of the first merge that produces it), which is the order HF's SentencePiece converter wrote
//     the merges in (by descending piece score). The dummy prefix goes before the text and after every special
//     token (llama.cpp's rule), also for Metaspace's prepend_scheme "first".
// tokenizer_config.json supplies bos_token / eos_token (a string or {"content": ...}) and add_bos_token /
// add_eos_token; without them the post_processor's TemplateProcessing (a leading special token) and well-known
// token names are used.
using System.Text.Json;

namespace Camelid.Tokenization;

public static partial class TokenizerLoader
{
    /// <summary>A Hugging Face tokenizer.json (BPE), with BOS/EOS settings from tokenizer_config.json when given.</summary>
    public static Vocabulary FromHfTokenizerJson(string tokenizerJsonPath, string? tokenizerConfigPath)
    {
        var bytes = ReadWholeFile(tokenizerJsonPath, "tokenizer.json");
        var configBytes = tokenizerConfigPath != null ? ReadWholeFile(tokenizerConfigPath, "tokenizer_config.json") : null;
        // JsonDocument checks UTF-8 only when a string is read; check it all up front so a bad byte is a format error.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new TokenizerException($"{tokenizerJsonPath}: not valid UTF-8; the file is corrupted");
        if (configBytes != null && !System.Text.Unicode.Utf8.IsValid(configBytes))
            throw new TokenizerException($"{tokenizerConfigPath}: not valid UTF-8; the file is corrupted");
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            using var config = configBytes != null ? JsonDocument.Parse(configBytes) : null;
            return new HfTokenizerJson(tokenizerJsonPath, doc.RootElement, config?.RootElement).ToVocabulary();
        }
        catch (JsonException e)
        {
            throw new TokenizerException($"{tokenizerJsonPath}{(tokenizerConfigPath != null ? $" / {tokenizerConfigPath}" : "")}: not valid JSON ({e.Message}); the file is truncated or corrupted");
        }
    }

    sealed class HfTokenizerJson(string path, JsonElement root, JsonElement? config)
    {
        public Vocabulary ToVocabulary()
        {
            if (root.ValueKind != JsonValueKind.Object)
                throw Error("the top level is not a JSON object");
            var model = Required(root, "model", JsonValueKind.Object, "");
            string type = Optional(model, "type", JsonValueKind.String)?.GetString() ?? "BPE";
            if (type != "BPE")
                throw Error($"model type '{type}' is not supported; only BPE tokenizers (LLaMA, Mistral, GPT-2, LLaMA-3) are");

            var (tokens, types) = ReadTokens(model);
            var merges = ReadMerges(model);
            var preTokenizer = Optional(root, "pre_tokenizer", JsonValueKind.Object);
            var normalizer = Optional(root, "normalizer", JsonValueKind.Object);
            var decoder = Optional(root, "decoder", JsonValueKind.Object);
            bool byteLevel = Components(preTokenizer).Concat(Components(decoder)).Any(c => TypeOf(c) == "ByteLevel");

            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int id = 0; id < tokens.Length; id++)
                ids.TryAdd(tokens[id], id);
            if (Optional(model, "unk_token", JsonValueKind.String)?.GetString() is { } unkText && ids.TryGetValue(unkText, out int unkId))
                types[unkId] = TokenType.Unknown;
            int? unknown = types.AsSpan().IndexOf(TokenType.Unknown) is var u and >= 0 ? u : null;

            Vocabulary vocabulary;
            if (byteLevel)
            {
                var byteLevelPre = Components(preTokenizer).FirstOrDefault(c => TypeOf(c) == "ByteLevel");
                vocabulary = new Vocabulary(Vocabulary.ByteLevelModel, ByteLevelPreName(preTokenizer), tokens, null, types,
                    merges.Select(m => MergeString(m.Left, m.Right)).ToArray(), -1, -1, unknown, null,
                    AddBos: false, AddEos: false,
                    AddSpacePrefix: byteLevelPre.ValueKind == JsonValueKind.Object && Bool(byteLevelPre, "add_prefix_space", false))
                {
                    IgnoreMerges = Optional(model, "ignore_merges", JsonValueKind.True, JsonValueKind.False)?.GetBoolean(),
                };
            }
            else
            {
                if (!LooksLikeSentencePiece(normalizer, preTokenizer, out bool addSpacePrefix))
                    throw Error("a BPE tokenizer without a ByteLevel pre-tokenizer must be a SentencePiece export (normalizer Replace(' ', '▁') or a Metaspace pre-tokenizer); this one is neither");
                if (Bool(model, "byte_fallback", false))
                    for (int id = 0; id < tokens.Length; id++)
                        if (types[id] == TokenType.Normal && ByteTokens.TryParse(tokens[id], out _))
                            types[id] = TokenType.Byte;
                vocabulary = new Vocabulary(Vocabulary.SentencePieceModel, null, tokens, ScoresFromMerges(tokens, ids, merges), types, null,
                    -1, -1, unknown, null, AddBos: false, AddEos: false, AddSpacePrefix: addSpacePrefix);
            }
            return WithChecks(WithSpecialTokens(vocabulary, ids), path);
        }

        (string[] Tokens, TokenType[] Types) ReadTokens(JsonElement model)
        {
            var vocab = Required(model, "vocab", JsonValueKind.Object, "model.");
            var entries = new List<(string Text, int Id, TokenType Type)>();
            foreach (var p in vocab.EnumerateObject())
                entries.Add((p.Name, Id(p.Value, $"model.vocab['{p.Name}']"), TokenType.Normal));
            if (Optional(root, "added_tokens", JsonValueKind.Array) is { } added)
                foreach (var t in added.EnumerateArray())
                {
                    if (t.ValueKind != JsonValueKind.Object)
                        throw Error("an entry of added_tokens is not an object");
                    string content = Required(t, "content", JsonValueKind.String, "added_tokens[].").GetString()!;
                    entries.Add((content, Id(Required(t, "id", JsonValueKind.Number, "added_tokens[]."), $"added token '{content}'"),
                        Bool(t, "special", false) ? TokenType.Control : TokenType.UserDefined));
                }
            if (entries.Count == 0)
                throw Error("model.vocab is empty");
            int count = entries.Max(e => e.Id) + 1;
            var tokens = new string?[count];
            var types = new TokenType[count];
            foreach (var (text, id, tokenType) in entries) // added tokens come last and take precedence
            {
                tokens[id] = text;
                types[id] = tokenType;
            }
            for (int id = 0; id < count; id++)
                if (tokens[id] is null)
                {
                    tokens[id] = $"[PAD{id}]"; // a hole in the id range, as llama.cpp's converter fills it
                    types[id] = TokenType.Unused;
                }
            return (tokens.Select(t => t!).ToArray(), types);
        }

        int Id(JsonElement value, string what)
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int id) || id < 0 || id >= 1 << 24)
                throw Error($"{what} is not a token id in 0..2^24");
            return id;
        }

        List<(string Left, string Right)> ReadMerges(JsonElement model)
        {
            var merges = new List<(string, string)>();
            if (Optional(model, "merges", JsonValueKind.Array) is not { } array)
                return merges;
            foreach (var m in array.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    string s = m.GetString()!;
                    int space = s.Length > 1 ? s.IndexOf(' ', 1) : -1;
                    if (space < 0)
                        throw Error($"merge '{s}' is not two tokens separated by a space");
                    merges.Add((s[..space], s[(space + 1)..]));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                         && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                    merges.Add((m[0].GetString()!, m[1].GetString()!));
                else
                    throw Error($"merge {merges.Count} is neither \"a b\" nor [\"a\", \"b\"]");
            }
            return merges;
        }

        string MergeString(string left, string right) =>
            left.Length > 0 && !left[1..].Contains(' ') && !right.Contains(' ')
                ? left + " " + right
                : throw Error($"merge ('{left}', '{right}') has a token containing a space, which a byte-level vocabulary cannot");

        float[] ScoresFromMerges(string[] tokens, Dictionary<string, int> ids, List<(string Left, string Right)> merges)
        {
            // Pieces no merge produces rank after every merge (they only matter as single characters).
            var scores = new float[tokens.Length];
            for (int id = 0; id < tokens.Length; id++)
                scores[id] = -(merges.Count + id);
            for (int rank = merges.Count - 1; rank >= 0; rank--)
            {
                var (left, right) = merges[rank];
                if (!ids.ContainsKey(left) || !ids.ContainsKey(right))
                    throw Error($"merge {rank} ('{left}', '{right}') uses a token that is not in the vocabulary");
                if (!ids.TryGetValue(left + right, out int merged))
                    throw Error($"merge {rank} ('{left}', '{right}') produces '{left + right}', which is not in the vocabulary");
                scores[merged] = -rank;
            }
            return scores;
        }

        string ByteLevelPreName(JsonElement? preTokenizer)
        {
            foreach (var c in Components(preTokenizer))
            {
                if (TypeOf(c) == "Split")
                {
                    string? pattern = Optional(c, "pattern", JsonValueKind.Object) is { } p
                        ? Optional(p, "Regex", JsonValueKind.String)?.GetString() : null;
                    return (pattern != null ? PreTokenizers.NameOfPattern(pattern) : null)
                        ?? throw Error($"the Split pre-tokenizer pattern {(pattern is null ? "(not a regex)" : $"'{pattern}'")} is not one of the supported ones (GPT-2, LLaMA-3)");
                }
                if (TypeOf(c) == "ByteLevel" && Bool(c, "use_regex", true))
                    return "gpt-2";
            }
            if (preTokenizer is null)
                return "gpt-2"; // only a ByteLevel decoder: old GPT-2 exports
            throw Error("the byte-level pre-tokenizer does not split text (no Split pattern and ByteLevel use_regex is false)");
        }

        bool LooksLikeSentencePiece(JsonElement? normalizer, JsonElement? preTokenizer, out bool addSpacePrefix)
        {
            addSpacePrefix = false;
            bool spaces = false;
            foreach (var n in Components(normalizer))
            {
                if (TypeOf(n) == "Prepend" && Optional(n, "prepend", JsonValueKind.String)?.GetString() == "\u2581")
                    addSpacePrefix = true;
                if (TypeOf(n) == "Replace" && Optional(n, "content", JsonValueKind.String)?.GetString() == "\u2581")
                    spaces = true;
            }
            foreach (var p in Components(preTokenizer))
                if (TypeOf(p) == "Metaspace")
                {
                    spaces = true;
                    string scheme = Optional(p, "prepend_scheme", JsonValueKind.String)?.GetString()
                        ?? (Bool(p, "add_prefix_space", true) ? "always" : "never");
                    addSpacePrefix |= scheme != "never";
                }
            return spaces;
        }

        /// <summary>BOS/EOS ids, add_bos/add_eos and end-of-turn ids from tokenizer_config.json, the post-processor and token names.</summary>
        Vocabulary WithSpecialTokens(Vocabulary v, Dictionary<string, int> ids)
        {
            bool spm = v.Model == Vocabulary.SentencePieceModel;
            string? templateBos = LeadingTemplateToken();
            int bos = ConfigToken("bos_token", ids) ?? Lookup(templateBos, ids) ?? FirstKnown(ids, "<s>", "<|begin_of_text|>", "<|startoftext|>", "<|endoftext|>") ?? -1;
            int eos = ConfigToken("eos_token", ids) ?? FirstKnown(ids, "</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>") ?? -1;
            int? pad = ConfigToken("pad_token", ids);
            bool addBos = ConfigBool("add_bos_token") ?? (templateBos != null || spm) && bos >= 0;
            bool addEos = ConfigBool("add_eos_token") ?? false;
            var typeOf = (int id) => v.Types![id];
            return v with
            {
                BosId = bos, EosId = eos, PaddingId = pad, AddBos = addBos, AddEos = addEos,
                ExtraEosIds = EndOfGeneration.ExtraIds(v.Tokens, typeOf, eos, []),
            };
        }

        int? ConfigToken(string key, Dictionary<string, int> ids)
        {
            if (config is not { } c || c.ValueKind != JsonValueKind.Object || !c.TryGetProperty(key, out var value))
                return null;
            string? text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Object => Optional(value, "content", JsonValueKind.String)?.GetString(),
                JsonValueKind.Null => null,
                _ => throw Error($"tokenizer_config.json '{key}' is neither a string nor an object with 'content'"),
            };
            if (text is null)
                return null;
            return ids.TryGetValue(text, out int id) ? id : throw Error($"tokenizer_config.json {key} '{text}' is not in the vocabulary");
        }

        bool? ConfigBool(string key) =>
            config is { ValueKind: JsonValueKind.Object } c && c.TryGetProperty(key, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? value.GetBoolean() : null;

        /// <summary>The special token a TemplateProcessing post-processor puts before a single sequence (LLaMA's BOS).</summary>
        string? LeadingTemplateToken()
        {
            foreach (var p in Components(Optional(root, "post_processor", JsonValueKind.Object)))
                if (TypeOf(p) == "TemplateProcessing" && Optional(p, "single", JsonValueKind.Array) is { } single
                    && single.GetArrayLength() > 0 && single[0].ValueKind == JsonValueKind.Object
                    && Optional(single[0], "SpecialToken", JsonValueKind.Object) is { } special)
                    return Optional(special, "id", JsonValueKind.String)?.GetString();
            return null;
        }

        static int? Lookup(string? text, Dictionary<string, int> ids) => text != null && ids.TryGetValue(text, out int id) ? id : null;

        static int? FirstKnown(Dictionary<string, int> ids, params string[] texts)
        {
            foreach (var t in texts)
                if (ids.TryGetValue(t, out int id))
                    return id;
            return null;
        }

        /// <summary>The element itself, or the members of a "Sequence" (pretokenizers / normalizers / decoders / processors).</summary>
        static IEnumerable<JsonElement> Components(JsonElement? element)
        {
            if (element is not { ValueKind: JsonValueKind.Object } e)
                yield break;
            if (TypeOf(e) != "Sequence")
            {
                yield return e;
                yield break;
            }
            foreach (var key in (string[])["pretokenizers", "normalizers", "decoders", "processors"])
                if (e.TryGetProperty(key, out var list) && list.ValueKind == JsonValueKind.Array)
                    foreach (var item in list.EnumerateArray())
                        foreach (var c in Components(item))
                            yield return c;
        }

        static string? TypeOf(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

        static JsonElement? Optional(JsonElement e, string name, params JsonValueKind[] kinds) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && kinds.Contains(v.ValueKind) ? v : null;

        JsonElement Required(JsonElement e, string name, JsonValueKind kind, string parent) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == kind
                ? v
                : throw Error($"'{parent}{name}' is missing or is not a JSON {kind.ToString().ToLowerInvariant()}");

        static bool Bool(JsonElement e, string name, bool fallback) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? v.GetBoolean() : fallback;

        TokenizerException Error(string what) => new($"{path}: {what}");
    }
}
