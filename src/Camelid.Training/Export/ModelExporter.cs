// Writes trained LlamaParameters in the formats LlamaModel.Load reads (and llama.cpp / transformers read):
//   WriteGguf         one GGUF file, F32, F16 or BF16 (norms stay F32), tokenizer and chat template in its metadata;
//                     re-quantize it with `camelid quantize` for Q4_K etc.
//   WriteHuggingFace  a transformers folder: config.json, generation_config.json, model.safetensors (or 5 GB shards
//                     with model.safetensors.index.json), Q/K rows in HF's rotate-half order, and the tokenizer files.
// Nothing is left half-written under the real name (Camelid.Model.Conversion.AtomicOutput: "PATH.partial" renamed
// when complete; an existing folder is replaced only when it holds nothing but model-folder files).
// Parameters with NaN or infinite values (a diverged run) are refused rather than written.
using System.Numerics.Tensors;
using Camelid.Model;
using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;
using Camelid.Training.Model;

namespace Camelid.Training.Export;

public static class ModelExporter
{
    /// <summary>Writes a GGUF file: 2-D weights as <paramref name="type"/> (F32, F16 or BF16), norms as F32,
    /// no output.weight when the head is tied to the embedding.</summary>
    public static ExportResult WriteGguf(LlamaParameters parameters, Tokenizer tokenizer, string path,
        GgmlType type = GgmlType.F32, ExportMetadata? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Check(parameters, tokenizer, type);
        metadata ??= new ExportMetadata();
        string full = Path.GetFullPath(path);
        AtomicOutput.WriteFile(full, partial =>
        {
            var writer = GgufExport.Build(parameters, tokenizer.Vocabulary, type, metadata, Path.GetFileNameWithoutExtension(full));
            using var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            writer.Write(stream);
        });
        return new ExportResult(full, new FileInfo(full).Length, [full]);
    }

    /// <summary>Writes a Hugging Face LlamaForCausalLM folder with every tensor as <paramref name="dtype"/> (F32, F16 or BF16).</summary>
    public static ExportResult WriteHuggingFace(LlamaParameters parameters, Tokenizer tokenizer, string directory,
        GgmlType dtype = GgmlType.F32, ExportMetadata? metadata = null) =>
        WriteHuggingFace(parameters, tokenizer, directory, dtype, metadata, HuggingFaceExport.DefaultMaxShardBytes);

    internal static ExportResult WriteHuggingFace(LlamaParameters parameters, Tokenizer tokenizer, string directory,
        GgmlType dtype, ExportMetadata? metadata, long maxShardBytes)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Check(parameters, tokenizer, dtype);
        metadata ??= new ExportMetadata();
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        AtomicOutput.WriteFolder(full, partial => HuggingFaceExport.WriteFolder(parameters, tokenizer.Vocabulary, partial, dtype, metadata, maxShardBytes),
            HuggingFaceExport.IsModelFolderFile);
        var files = Directory.GetFiles(full).Order(StringComparer.Ordinal).ToList();
        return new ExportResult(full, files.Sum(f => new FileInfo(f).Length), files);
    }

    /// <summary>Shapes against the config, the tokenizer against the vocabulary, the type, and every value finite.</summary>
    static void Check(LlamaParameters p, Tokenizer tokenizer, GgmlType type)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw new ArgumentException($"models are exported as F32, F16 or BF16, not {type}; quantize the exported GGUF with `camelid quantize`", nameof(type));
        var c = p.Config;
        c.Validate("the model to export");
        if (tokenizer.VocabSize != c.VocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {c.VocabSize}", nameof(tokenizer));
        if (p.Layers.Length != c.Layers)
            throw new ArgumentException($"the model has {p.Layers.Length} layers but its config says {c.Layers}");
        void Shape(Parameter parameter, int rows, int cols)
        {
            if (parameter.Rows != rows || parameter.Cols != cols)
                throw new ArgumentException($"{parameter.Name} has shape ({parameter.Rows}, {parameter.Cols}), expected ({rows}, {cols}) for dim={c.Dim}, hidden={c.HiddenDim}, heads={c.Heads}, kv_heads={c.KvHeads}, vocab={c.VocabSize}");
        }
        Shape(p.TokenEmbedding, c.VocabSize, c.Dim);
        Shape(p.OutputNorm, 1, c.Dim);
        if (p.Output is { } output)
            Shape(output, c.VocabSize, c.Dim);
        foreach (var l in p.Layers)
        {
            Shape(l.AttentionNorm, 1, c.Dim);
            Shape(l.Wq, c.Dim, c.Dim);
            Shape(l.Wk, c.KvDim, c.Dim);
            Shape(l.Wv, c.KvDim, c.Dim);
            Shape(l.Wo, c.Dim, c.Dim);
            Shape(l.FfnNorm, 1, c.Dim);
            Shape(l.W1, c.HiddenDim, c.Dim);
            Shape(l.W2, c.Dim, c.HiddenDim);
            Shape(l.W3, c.HiddenDim, c.Dim);
        }
        foreach (var parameter in p.All)
        {
            // MaxMagnitude is NaN when any value is NaN and infinite when any is.
            float largest = TensorPrimitives.MaxMagnitude<float>(parameter.Value);
            if (!float.IsFinite(largest))
                throw new ArgumentException($"{parameter.Name} holds {(float.IsNaN(largest) ? "NaN" : "infinite")} values (the training diverged?); not exporting it");
            if (type == GgmlType.F16 && parameter.IsMatrix && Math.Abs(largest) > (float)Half.MaxValue)
                throw new ArgumentException($"{parameter.Name} has a value of magnitude {Math.Abs(largest)}, beyond F16's range ({(float)Half.MaxValue}); export as F32 or BF16");
        }
    }
}
