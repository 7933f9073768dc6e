// `camelid synth`: a LLaMA GGUF file of a given shape with random weights, so benchmarks need no download.
// The file is laid out as llama-quantize writes one:
//   metadata   general.architecture "llama", general.type "model", general.name, general.description;
//              llama.{vocab_size, context_length, embedding_length, block_count, feed_forward_length,
//              rope.dimension_count, attention.head_count, attention.head_count_kv, rope.freq_base,
//              attention.layer_norm_rms_epsilon} (the keys GgufModelLoader reads);
//              tokenizer.ggml.{model "llama", tokens, scores, token_type, bos/eos/unknown_token_id,
//              add_bos_token, add_eos_token} (a SyntheticVocabulary);
//              general.quantization_version 2, general.file_type (llama_ftype) last, as llama-quantize leaves them;
//   tensors    token_embd (vocab, dim), output_norm (dim), output (vocab, dim) unless tied, and per layer
//              attn_norm, attn_q (dim, dim), attn_k / attn_v (kvDim, dim), attn_output (dim, dim), ffn_norm,
//              ffn_gate / ffn_up (hidden, dim), ffn_down (dim, hidden), in llama-quantize's (layer, name) order,
//              each of the type TensorTypeRules gives it.
// Weights are drawn as fp32 (std 0.02, as GPT-2/LLaMA-style initialisations; norm weights 1) from RandomWeights,
// then converted exactly as `camelid quantize` converts an fp32 file: synthesizing F32 and quantizing the result
// gives the same file, byte for byte, as synthesizing the quantized type directly.
using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

public static class ModelSynthesizer
{
    /// <summary>Standard deviation of the random weight matrices.</summary>
    public const float WeightStd = 0.02f;

    public static ConversionResult Synthesize(ModelShape shape, LlamaFileType fileType, ulong seed, string outputPath, ConversionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outputPath);
        var planned = PlanTensors(shape, fileType).Select(t => new PlannedTensor(t, Source(seed, t.Name, t.Shape), null)).ToList();
        return GgufOutput.Write(outputPath, fileType, Metadata(shape, seed, fileType), planned, options ?? new ConversionOptions());
    }

    /// <summary>The tensors a synthesized file holds, in file order, with the type each is written as (nothing is generated).</summary>
    public static IReadOnlyList<ConvertedTensor> PlanTensors(ModelShape shape, LlamaFileType fileType)
    {
        ArgumentNullException.ThrowIfNull(shape);
        shape.Config.Validate(shape.Name);
        var tensors = TensorShapes(shape).OrderBy(t => t.Name, Comparer<string>.Create(TensorTypeRules.CompareForFileOrder)).ToList();
        var rules = new TensorTypeRules(fileType, tensors.Select(t => t.Name), shape.Config);
        return tensors.Select(t =>
        {
            var type = rules.TypeFor(t.Name, t.Shape, GgmlType.F32, out bool fellBack);
            return new ConvertedTensor(t.Name, t.Shape, type, GgmlType.F32, fellBack);
        }).ToList();
    }

    /// <summary>Every tensor of the model with its shape, outermost dimension first.</summary>
    static IEnumerable<(string Name, long[] Shape)> TensorShapes(ModelShape shape)
    {
        var c = shape.Config;
        var n = TensorNames.Gguf;
        yield return (n.TokenEmbedding, [c.VocabSize, c.Dim]);
        yield return (n.OutputNorm, [c.Dim]);
        if (!shape.TiedEmbeddings)
            yield return (n.Output, [c.VocabSize, c.Dim]);
        for (int i = 0; i < c.Layers; i++)
        {
            string L(string pattern) => TensorNames.ForLayer(pattern, i);
            yield return (L(n.AttentionNorm), [c.Dim]);
            yield return (L(n.Wq), [c.Dim, c.Dim]);
            yield return (L(n.Wk), [c.KvDim, c.Dim]);
            yield return (L(n.Wv), [c.KvDim, c.Dim]);
            yield return (L(n.Wo), [c.Dim, c.Dim]);
            yield return (L(n.FfnNorm), [c.Dim]);
            yield return (L(n.W1Gate), [c.HiddenDim, c.Dim]);
            yield return (L(n.W3Up), [c.HiddenDim, c.Dim]);
            yield return (L(n.W2Down), [c.Dim, c.HiddenDim]);
        }
    }

    /// <summary>Norm weights are 1 (as initialised before training); every matrix is random.</summary>
    static RowSource Source(ulong seed, string name, long[] shape)
    {
        if (shape.Length == 1)
            return (_, _, destination) => destination.Fill(1f);
        ulong key = RandomWeights.TensorKey(seed, name);
        long cols = shape[^1];
        return (firstRow, _, destination) => RandomWeights.Fill(key, firstRow * cols, destination, WeightStd);
    }

    static IEnumerable<(string Key, object Value)> Metadata(ModelShape shape, ulong seed, LlamaFileType fileType)
    {
        var c = shape.Config;
        var vocabulary = SyntheticVocabulary.Create(c.VocabSize);
        (string, object)[] keys =
        [
            ("general.architecture", "llama"),
            ("general.type", "model"),
            ("general.name", $"synthetic-{shape.Name}"),
            ("general.description", $"random weights, not a trained model: camelid synth --shape {shape.Name} --seed {seed}"),
            ("llama.vocab_size", (uint)c.VocabSize),
            ("llama.context_length", (uint)c.TrainedContextLength),
            ("llama.embedding_length", (uint)c.Dim),
            ("llama.block_count", (uint)c.Layers),
            ("llama.feed_forward_length", (uint)c.HiddenDim),
            ("llama.rope.dimension_count", (uint)c.HeadSize),
            ("llama.attention.head_count", (uint)c.Heads),
            ("llama.attention.head_count_kv", (uint)c.KvHeads),
            ("llama.rope.freq_base", (float)c.RopeTheta),
            ("llama.attention.layer_norm_rms_epsilon", c.RmsNormEps),
            ("tokenizer.ggml.model", "llama"),
            ("tokenizer.ggml.tokens", vocabulary.Tokens),
            ("tokenizer.ggml.scores", vocabulary.Scores),
            ("tokenizer.ggml.token_type", vocabulary.TokenTypes),
            ("tokenizer.ggml.bos_token_id", (uint)SyntheticVocabulary.BosId),
            ("tokenizer.ggml.eos_token_id", (uint)SyntheticVocabulary.EosId),
            ("tokenizer.ggml.unknown_token_id", (uint)SyntheticVocabulary.UnknownId),
            ("tokenizer.ggml.add_bos_token", true),
            ("tokenizer.ggml.add_eos_token", false),
        ];
        return keys.Concat(GgufOutput.FileTypeKeys(fileType));
    }
}
