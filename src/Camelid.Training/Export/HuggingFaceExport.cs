// The Hugging Face transformers folder of a trained model: the files of Camelid.Model.Conversion.HfFolderWriter
// (config.json, generation_config.json, model.safetensors or 5 GB shards with the index, tokenizer files), every
// tensor under TensorNames.HuggingFace in one dtype. Q/K rows are permuted from Meta's interleaved pairs to HF's
// rotate-half halves (ToRotateHalfRows), the inverse of HfModelLoader.UnpermuteRotaryRows.
using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;
using Camelid.Training.Model;

namespace Camelid.Training.Export;

static class HuggingFaceExport
{
    /// <summary>transformers' save_pretrained default max_shard_size, "5GB".</summary>
    public const long DefaultMaxShardBytes = HfFolderWriter.DefaultMaxShardBytes;

    /// <summary>The files an export writes, by name; an existing folder holding only these may be replaced.</summary>
    public static bool IsModelFolderFile(string name) => HfFolderWriter.IsModelFolderFile(name);

    public static void WriteFolder(LlamaParameters p, Vocabulary vocabulary, string directory, GgmlType dtype, ExportMetadata metadata, long maxShardBytes)
    {
        HfFolderWriter.WriteConfigAndTokenizer(directory, p.Config, p.TiedOutput, vocabulary, dtype, metadata.Name, metadata.ChatTemplate);
        HfFolderWriter.WriteWeights(directory, Tensors(p, dtype), maxShardBytes);
    }

    static List<HfFolderWriter.Weight> Tensors(LlamaParameters p, GgmlType dtype)
    {
        var c = p.Config;
        var names = TensorNames.HuggingFace;
        HfFolderWriter.Weight As(string name, Parameter parameter) => new(name, dtype,
            parameter.IsMatrix ? [parameter.Rows, parameter.Cols] : [parameter.Cols], stream => TensorBytes.Write(stream, parameter.Value, dtype));
        HfFolderWriter.Weight Rotary(string name, Parameter parameter, int heads) => new(name, dtype,
            [parameter.Rows, parameter.Cols], stream => TensorBytes.Write(stream, ToRotateHalfRows(parameter.Value, heads, parameter.Cols), dtype));

        var tensors = new List<HfFolderWriter.Weight> { As(names.TokenEmbedding, p.TokenEmbedding), As(names.OutputNorm, p.OutputNorm) };
        if (p.Output is { } output)
            tensors.Add(As(names.Output, output));
        for (int i = 0; i < p.Layers.Length; i++)
        {
            var l = p.Layers[i];
            string N(string pattern) => TensorNames.ForLayer(pattern, i);
            tensors.Add(As(N(names.AttentionNorm), l.AttentionNorm));
            tensors.Add(Rotary(N(names.Wq), l.Wq, c.Heads));
            tensors.Add(Rotary(N(names.Wk), l.Wk, c.KvHeads));
            tensors.Add(As(N(names.Wv), l.Wv));
            tensors.Add(As(N(names.Wo), l.Wo));
            tensors.Add(As(N(names.FfnNorm), l.FfnNorm));
            tensors.Add(As(N(names.W1Gate), l.W1));
            tensors.Add(As(N(names.W3Up), l.W3));
            tensors.Add(As(N(names.W2Down), l.W2));
        }
        return tensors;
    }

    /// <summary>Meta's interleaved-pair rows of each head to HF's halves (<see cref="Camelid.Model.RotaryRowOrder"/>).</summary>
    internal static float[] ToRotateHalfRows(float[] meta, int heads, int cols) // (heads·headSize, cols)
    {
        int rows = meta.Length / cols, headSize = rows / heads;
        var hf = new float[meta.Length];
        for (int row = 0; row < rows; row++)
            Array.Copy(meta, Camelid.Model.RotaryRowOrder.MetaRowOf(row, headSize) * cols, hf, (long)row * cols, cols);
        return hf;
    }
}
