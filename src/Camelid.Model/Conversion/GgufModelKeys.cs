// The GGUF metadata of a LLaMA model, with the keys GgufModelLoader and llama.cpp (llama-model.cpp,
// llama-vocab.cpp) read, in the order llama.cpp's converters write them:
//   general.architecture "llama", general.type "model", general.name, general.description (when given);
//   llama.{vocab_size, context_length, embedding_length, block_count, feed_forward_length, rope.dimension_count,
//   attention.head_count, attention.head_count_kv, rope.freq_base, attention.layer_norm_rms_epsilon},
//   llama.rope.scaling.{type, factor} for linear scaling;
//   tokenizer.ggml.{model, pre (byte-level), tokens, scores (SentencePiece), token_type, merges (byte-level),
//   bos/eos/unknown/padding/eot_token_id (those the vocabulary has), add_bos_token, add_eos_token,
//   add_space_prefix, remove_extra_whitespaces}, tokenizer.chat_template (when known);
//   general.quantization_version, general.file_type last, as llama.cpp leaves them.
// Llama-3 frequency scaling is not a key: llama.cpp's converter stores it as the tensor rope_freqs.weight, whose
// values RopeDivisors gives. Used by the training exporter and by `camelid convert`.
using Camelid.Tokenization;

namespace Camelid.Model.Conversion;

public static class GgufModelKeys
{
    public static IEnumerable<(string Key, object Value)> Model(LlamaConfig c, string name, string? description = null)
    {
        yield return ("general.architecture", "llama");
        yield return ("general.type", "model");
        yield return ("general.name", name);
        if (description != null)
            yield return ("general.description", description);
        yield return ("llama.vocab_size", (uint)c.VocabSize);
        yield return ("llama.context_length", (uint)c.TrainedContextLength);
        yield return ("llama.embedding_length", (uint)c.Dim);
        yield return ("llama.block_count", (uint)c.Layers);
        yield return ("llama.feed_forward_length", (uint)c.HiddenDim);
        yield return ("llama.rope.dimension_count", (uint)c.HeadSize);
        yield return ("llama.attention.head_count", (uint)c.Heads);
        yield return ("llama.attention.head_count_kv", (uint)c.KvHeads);
        yield return ("llama.rope.freq_base", (float)c.RopeTheta);
        yield return ("llama.attention.layer_norm_rms_epsilon", c.RmsNormEps);
        if (c.RopeScaling is RopeScaling.Linear linear)
        {
            yield return ("llama.rope.scaling.type", "linear");
            yield return ("llama.rope.scaling.factor", (float)linear.Factor);
        }
    }

    public static IEnumerable<(string Key, object Value)> Tokenizer(Vocabulary v, string? chatTemplate)
    {
        const string prefix = "tokenizer.ggml.";
        bool spm = v.Model == Vocabulary.SentencePieceModel;
        yield return (prefix + "model", v.Model);
        if (!spm)
            yield return (prefix + "pre", v.Pre ?? "default");
        yield return (prefix + "tokens", v.Tokens.ToArray());
        if (v.Scores != null)
            yield return (prefix + "scores", v.Scores);
        yield return (prefix + "token_type", Enumerable.Range(0, v.Tokens.Count).Select(id => (int)v.TypeOf(id)).ToArray());
        if (v.Merges != null)
            yield return (prefix + "merges", v.Merges.ToArray());
        if (v.BosId >= 0)
            yield return (prefix + "bos_token_id", (uint)v.BosId);
        if (v.EosId >= 0)
            yield return (prefix + "eos_token_id", (uint)v.EosId);
        if (v.UnknownId is int unk)
            yield return (prefix + "unknown_token_id", (uint)unk);
        if (v.PaddingId is int pad)
            yield return (prefix + "padding_token_id", (uint)pad);
        if (v.ExtraEosIds is [int endOfTurn, ..])
            yield return (prefix + "eot_token_id", (uint)endOfTurn);
        yield return (prefix + "add_bos_token", v.AddBos);
        yield return (prefix + "add_eos_token", v.AddEos);
        yield return (prefix + "add_space_prefix", v.AddSpacePrefix);
        if (spm)
            yield return (prefix + "remove_extra_whitespaces", v.RemoveExtraWhitespaces);
        if (chatTemplate != null)
            yield return ("tokenizer.chat_template", chatTemplate);
    }

    /// <summary>general.quantization_version and general.file_type, the last two keys.</summary>
    public static IEnumerable<(string Key, object Value)> FileType(LlamaFileType fileType) => GgufOutput.FileTypeKeys(fileType);

    /// <summary>
    /// Per-frequency divisors for rope_freqs.weight: stored ones as they are, Llama-3 scaling as the ratio of the
    /// unscaled to the scaled inverse frequency (what llama.cpp's converter computes); none for other scalings.
    /// </summary>
    public static float[]? RopeDivisors(LlamaConfig c) => c.RopeScaling switch
    {
        RopeScaling.Divisors d => d.Values,
        RopeScaling.Llama3 => (c with { RopeScaling = null }).RopeInverseFrequencies()
            .Zip(c.RopeInverseFrequencies(), (unscaled, scaled) => (float)((double)unscaled / scaled)).ToArray(),
        _ => null,
    };
}
