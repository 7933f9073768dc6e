// The tokenizer files of a Hugging Face model folder, written from a Vocabulary so that TokenizerLoader and the
// transformers library read back the same tokenizer:
//   tokenizer.model          SentencePiece vocabularies ("llama"), see SentencePieceModelWriter; transformers'
//                            LlamaTokenizer reads it (legacy mode: every text between special tokens gets the dummy
//                            prefix, which is llama.cpp's rule and ours)
//   tokenizer.json           byte-level BPE vocabularies ("gpt2"), the tokenizers-library layout HfTokenizerJson
//                            reads: model BPE (vocab without the added tokens, merges as "left right", ignore_merges),
//                            added_tokens (control -> special, user-defined -> not special), the pre-tokenizer of
//                            the vocabulary's split regex (GPT-2: ByteLevel with its own regex; LLaMA-3: Split with
//                            the pattern, then ByteLevel without), a ByteLevel decoder, and a TemplateProcessing
//                            post-processor that puts BOS first when the vocabulary adds it
//   tokenizer_config.json    bos/eos/unk/pad tokens, add_bos_token / add_eos_token, added_tokens_decoder, the
//                            chat template when known, model_max_length, the tokenizer class
//   special_tokens_map.json  bos/eos/unk/pad tokens
// Holes in a byte-level id range ("[PAD{id}]" unused tokens, as HfTokenizerJson fills them) are left out again.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Camelid.Tokenization;

public static class HfTokenizerWriter
{
    public const string SentencePieceFile = "tokenizer.model";
    public const string TokenizerJsonFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    static readonly JsonWriterOptions Json = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes the tokenizer files of <paramref name="vocabulary"/> into <paramref name="directory"/> (which must exist)
    /// and returns their names. Files are written in place: the caller makes the folder appear atomically.
    /// </summary>
    /// <param name="chatTemplate">Jinja chat template source for tokenizer_config.json, if known.</param>
    /// <param name="modelMaxLength">The model's context length, for tokenizer_config.json.</param>
    public static IReadOnlyList<string> WriteFiles(Vocabulary vocabulary, string directory, string? chatTemplate = null, int? modelMaxLength = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var files = new List<(string Name, byte[] Bytes)>
        {
            vocabulary.Model switch
            {
                Vocabulary.SentencePieceModel => (SentencePieceFile, SentencePieceModelWriter.Serialize(vocabulary)),
                Vocabulary.ByteLevelModel => (TokenizerJsonFile, TokenizerJson(vocabulary)),
                _ => throw new TokenizerException($"tokenizer model '{vocabulary.Model}' cannot be written as Hugging Face tokenizer files"),
            },
            (ConfigFile, TokenizerConfig(vocabulary, chatTemplate, modelMaxLength)),
            (SpecialTokensMapFile, SpecialTokensMap(vocabulary)),
        };
        foreach (var (name, bytes) in files)
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        return files.Select(f => f.Name).ToList();
    }

    /// <summary>tokenizer.json of a byte-level BPE vocabulary.</summary>
    public static byte[] TokenizerJson(Vocabulary v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Model != Vocabulary.ByteLevelModel)
            throw new TokenizerException($"tokenizer.json is written for byte-level (\"{Vocabulary.ByteLevelModel}\") vocabularies; SentencePiece ones are written as tokenizer.model");
        v.Validate();
        PreTokenizers.ForName(v.Pre); // an unsupported split regex fails here, not in whoever reads the file
        bool llama3 = PreTokenizers.IsLlama3(v.Pre);

        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            for (int id = 0; id < v.Tokens.Count; id++)
                if (v.TypeOf(id) is TokenType.Control or TokenType.UserDefined)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", id);
                    w.WriteString("content", v.Tokens[id]);
                    w.WriteBoolean("single_word", false);
                    w.WriteBoolean("lstrip", false);
                    w.WriteBoolean("rstrip", false);
                    w.WriteBoolean("normalized", false);
                    w.WriteBoolean("special", v.TypeOf(id) == TokenType.Control);
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteNull("normalizer");

            w.WritePropertyName("pre_tokenizer");
            if (llama3)
            {
                w.WriteStartObject();
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", PreTokenizers.Llama3Pattern);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                WriteByteLevel(w, v.AddSpacePrefix, trimOffsets: true, useRegex: false);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
                WriteByteLevel(w, v.AddSpacePrefix, trimOffsets: true, useRegex: true);

            w.WritePropertyName("post_processor");
            if (v.AddBos && v.BosId >= 0)
                WriteBosTemplate(w, v.Tokens[v.BosId], v.BosId);
            else
                WriteByteLevel(w, addPrefixSpace: true, trimOffsets: false, useRegex: true);
            w.WritePropertyName("decoder");
            WriteByteLevel(w, addPrefixSpace: true, trimOffsets: true, useRegex: true);

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            if (v.UnknownId is int unk)
                w.WriteString("unk_token", v.Tokens[unk]);
            else
                w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", v.IgnoreMerges ?? llama3);
            w.WriteStartObject("vocab");
            var written = new HashSet<string>(StringComparer.Ordinal);
            for (int id = 0; id < v.Tokens.Count; id++)
            {
                var type = v.TypeOf(id);
                if (type is TokenType.Control or TokenType.UserDefined || (type == TokenType.Unused && v.Tokens[id] == $"[PAD{id}]"))
                    continue;
                if (!written.Add(v.Tokens[id]))
                    throw new TokenizerException($"token {id} '{v.Tokens[id]}' appears twice in the vocabulary, which tokenizer.json cannot hold");
                w.WriteNumber(v.Tokens[id], id);
            }
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var merge in v.Merges ?? [])
                w.WriteStringValue(merge);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void WriteByteLevel(Utf8JsonWriter w, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        w.WriteStartObject();
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    /// <summary>BOS before a single sequence and before each of a pair (LLaMA-3's post-processor).</summary>
    static void WriteBosTemplate(Utf8JsonWriter w, string bos, int bosId)
    {
        void Sequence(string id)
        {
            w.WriteStartObject();
            w.WriteStartObject("SpecialToken");
            w.WriteString("id", bos);
            w.WriteNumber("type_id", 0);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteStartObject("Sequence");
            w.WriteString("id", id);
            w.WriteNumber("type_id", id == "A" ? 0 : 1);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteStartObject();
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        Sequence("A");
        w.WriteEndArray();
        w.WriteStartArray("pair");
        Sequence("A");
        Sequence("B");
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        w.WriteStartObject(bos);
        w.WriteString("id", bos);
        w.WriteStartArray("ids");
        w.WriteNumberValue(bosId);
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        w.WriteStringValue(bos);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>tokenizer_config.json: special tokens, add-BOS/EOS, the chat template and the tokenizer class transformers should build.</summary>
    public static byte[] TokenizerConfig(Vocabulary v, string? chatTemplate = null, int? modelMaxLength = null)
    {
        ArgumentNullException.ThrowIfNull(v);
        bool spm = v.Model == Vocabulary.SentencePieceModel;
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", v.AddBos);
            w.WriteBoolean("add_eos_token", v.AddEos);
            w.WriteStartObject("added_tokens_decoder");
            for (int id = 0; id < v.Tokens.Count; id++)
                if (v.TypeOf(id) is TokenType.Control or TokenType.UserDefined or TokenType.Unknown)
                {
                    w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteString("content", v.Tokens[id]);
                    w.WriteBoolean("lstrip", false);
                    w.WriteBoolean("normalized", false);
                    w.WriteBoolean("rstrip", false);
                    w.WriteBoolean("single_word", false);
                    w.WriteBoolean("special", v.TypeOf(id) != TokenType.UserDefined);
                    w.WriteEndObject();
                }
            w.WriteEndObject();
            WriteSpecialTokens(w, v);
            if (chatTemplate != null)
                w.WriteString("chat_template", chatTemplate);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            if (spm)
                w.WriteBoolean("legacy", true);
            if (modelMaxLength is int max)
                w.WriteNumber("model_max_length", max);
            if (spm)
            {
                w.WriteStartObject("sp_model_kwargs");
                w.WriteEndObject();
                w.WriteBoolean("spaces_between_special_tokens", false);
            }
            w.WriteString("tokenizer_class", spm ? "LlamaTokenizer" : "PreTrainedTokenizerFast");
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>special_tokens_map.json: the bos/eos/unk/pad token texts.</summary>
    public static byte[] SpecialTokensMap(Vocabulary v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Json))
        {
            w.WriteStartObject();
            WriteSpecialTokens(w, v);
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void WriteSpecialTokens(Utf8JsonWriter w, Vocabulary v)
    {
        (string Key, int? Id)[] tokens = [("bos_token", v.BosId), ("eos_token", v.EosId), ("unk_token", v.UnknownId), ("pad_token", v.PaddingId)];
        foreach (var (key, id) in tokens)
            if (id is int i and >= 0)
                w.WriteString(key, v.Tokens[i]);
    }
}
