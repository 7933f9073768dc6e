// The GGUF a trained model is written as: the metadata of Camelid.Model.Conversion.GgufModelKeys (model keys,
// tokenizer keys, chat template, file type last, as llama.cpp's converters write them), then the tensors.
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
    public static GgufWriter Build(LlamaParameters p, Vocabulary vocabulary, GgmlType type, ExportMetadata metadata, string defaultName)
    {
        var writer = new GgufWriter();
        foreach (var (key, value) in GgufModelKeys.Model(p.Config, metadata.Name ?? defaultName, metadata.Description)
                     .Concat(GgufModelKeys.Tokenizer(vocabulary, metadata.ChatTemplate))
                     .Concat(GgufModelKeys.FileType(FileTypeOf(type))))
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
        if (GgufModelKeys.RopeDivisors(p.Config) is { } divisors)
            writer.AddTensor("rope_freqs.weight", GgmlType.F32, [divisors.Length], MemoryMarshal.AsBytes(divisors.AsSpan()));
        foreach (var layer in p.Layers)
            foreach (var parameter in (Parameter[])[layer.AttentionNorm, layer.Wq, layer.Wk, layer.Wv, layer.Wo, layer.FfnNorm, layer.W1, layer.W3, layer.W2])
                Add(parameter, TypeOf(parameter));
        return writer;
    }

    static LlamaFileType FileTypeOf(GgmlType type) => type switch
    {
        GgmlType.F32 => LlamaFileType.AllF32,
        GgmlType.F16 => LlamaFileType.MostlyF16,
        GgmlType.BF16 => LlamaFileType.MostlyBF16,
        _ => throw new ArgumentException($"no GGUF file type for {type}"),
    };
}
