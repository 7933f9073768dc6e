// The GGUF a trained model is written as, with the keys GgufModelLoader and llama.cpp (llama-model.cpp,
// llama-vocab.cpp) read, in the order llama.cpp's converters write them:
//   general.architecture "llama", general.type "model", general.name, general.description (when given);
//   llama.{vocab_size, context_length, embedding_length, block_count, feed_forward_length, rope.dimension_count,
//   attention.head_count, attention.head_count_kv, rope.freq_base, attention.layer_norm_rms_epsilon},
//   llama.rope.scaling.{type, factor} for linear scaling;
//   tokenizer.ggml.{model, pre (byte-level), tokens, scores (SentencePiece), token_type, merges (byte-level),
//   bos/eos/unknown/padding/eot_token_id (those the vocabulary has), add_bos_token, add_eos_token,
//   add_space_prefix, remove_extra_whitespaces}, tokenizer.chat_template (when known);
//   general.quantization_version, general.file_type last, as llama.cpp leaves them.
// Tensors: token_embd, output_norm, output (absent when tied: llama.cpp and our loader then use token_embd),
// rope_freqs (Llama-3 frequency scaling, as llama.cpp's converter stores it), then per block attn_norm, attn_q,
// attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down. Q/K rows stay in the interleaved-pair order
// the parameters already have. 1-D tensors (norms, rope_freqs) are F32 whatever the file type, as in llama.cpp.
using System.Runtime.InteropServices;
using Camelid.Formats.Gguf;
using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;
using Camelid.Training.Model;

namespace Camelid.Training.Export;

static class GgufExport
{
    /// <summary>GGML_QNT_VERSION, which llama.cpp writes in every file.</summary>
    const uint QuantizationVersion = 2;

    public static GgufWriter Build(LlamaParameters p, Vocabulary vocabulary, GgmlType type, ExportMetadata metadata, string defaultName)
    {
        var writer = new GgufWriter();
        foreach (var (key, value) in ModelKeys(p.Config, metadata, defaultName)
                     .Concat(TokenizerKeys(vocabulary, metadata.ChatTemplate))
                     .Concat(FileTypeKeys(type)))
            writer.Add(key, value);

        void Add(Parameter parameter, GgmlType tensorType)
        {
            long[] shape = parameter.IsMatrix ? [parameter.Rows, parameter.Cols] : [parameter.Cols];
            writer.AddTensor(parameter.Name, tensorType, shape, stream => TensorBytes.Write(stream, parameter.Value, tensorType));
        }
        GgmlType TypeOf(Parameter parameter) => parameter.IsMatrix ? type : GgmlType.F32;

        Add(p.TokenEmbedding, type);
        Add(p.OutputNorm, GgmlType.F32);
        if (p.Output is { } output)
            Add(output, type);
        if (RopeDivisors(p.Config) is { } divisors)
            writer.AddTensor("rope_freqs.weight", GgmlType.F32, [divisors.Length], MemoryMarshal.AsBytes(divisors.AsSpan()));
        foreach (var layer in p.Layers)
            foreach (var parameter in (Parameter[])[layer.AttentionNorm, layer.Wq, layer.Wk, layer.Wv, layer.Wo, layer.FfnNorm, layer.W1, layer.W3, layer.W2])
                Add(parameter, TypeOf(parameter));
        return writer;
    }

    static IEnumerable<(string, object)> ModelKeys(LlamaConfig c, ExportMetadata metadata, string defaultName)
    {
        yield return ("general.architecture", "llama");
        yield return ("general.type", "model");
        yield return ("general.name", metadata.Name ?? defaultName);
        if (metadata.Description != null)
            yield return ("general.description", metadata.Description);
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

    static IEnumerable<(string, object)> TokenizerKeys(Vocabulary v, string? chatTemplate)
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

    static IEnumerable<(string, object)> FileTypeKeys(GgmlType type)
    {
        var fileType = type switch
        {
            GgmlType.F32 => LlamaFileType.AllF32,
            GgmlType.F16 => LlamaFileType.MostlyF16,
            GgmlType.BF16 => LlamaFileType.MostlyBF16,
            _ => throw new ArgumentException($"no GGUF file type for {type}"),
        };
        yield return ("general.quantization_version", QuantizationVersion);
        yield return ("general.file_type", (uint)fileType);
    }

    /// <summary>
    /// Per-frequency divisors for rope_freqs.weight: stored ones as they are, Llama-3 scaling as the ratio of the
    /// unscaled to the scaled inverse frequency (what llama.cpp's converter computes); none for other scalings.
    /// </summary>
    static float[]? RopeDivisors(LlamaConfig c) => c.RopeScaling switch
    {
        RopeScaling.Divisors d => d.Values,
        RopeScaling.Llama3 => (c with { RopeScaling = null }).RopeInverseFrequencies()
            .Zip(c.RopeInverseFrequencies(), (unscaled, scaled) => (float)((double)unscaled / scaled)).ToArray(),
        _ => null,
    };
}
