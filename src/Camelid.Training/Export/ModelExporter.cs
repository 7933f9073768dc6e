// Writes trained LlamaParameters in the formats LlamaModel.Load reads (and llama.cpp / transformers read):
//   WriteGguf         one GGUF file, F32, F16 or BF16 (norms stay F32), tokenizer and chat template in its metadata;
//                     re-quantize it with `camelid quantize` for Q4_K etc.
//   WriteHuggingFace  a transformers folder: config.json, generation_config.json, model.safetensors (or 5 GB shards
//                     with model.safetensors.index.json), Q/K rows in HF's rotate-half order, and the tokenizer files.
// Nothing is left half-written under the real name: the GGUF goes to "PATH.partial" and is renamed when complete;
// the folder is built as "DIR.partial" (a stale one left by an interrupted export is removed first) and renamed.
// An existing DIR is replaced only when it holds nothing but the files of a model folder (an earlier export), so a
// mistyped path never deletes unrelated data; the earlier export is moved aside, then deleted once the new one is in place.
// Parameters with NaN or infinite values (a diverged run) are refused rather than written.
using System.Numerics.Tensors;
using Camelid.Model;
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
        if (Directory.Exists(full))
            throw new IOException($"{full} is a folder; give the GGUF file's path");
        RequireParentFolder(full);
        string partial = full + ".partial";
        try
        {
            var writer = GgufExport.Build(parameters, tokenizer.Vocabulary, type, metadata, Path.GetFileNameWithoutExtension(full));
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                writer.Write(stream);
            File.Move(partial, full, overwrite: true);
        }
        catch
        {
            TryDeleteFile(partial);
            throw;
        }
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
        if (File.Exists(full))
            throw new IOException($"{full} is a file; give the folder to write the model into");
        RequireParentFolder(full);
        CheckReplaceable(full);
        string partial = full + ".partial";
        if (Directory.Exists(partial))
            Directory.Delete(partial, recursive: true); // left by an interrupted export
        Directory.CreateDirectory(partial);
        try
        {
            HuggingFaceExport.WriteFolder(parameters, tokenizer.Vocabulary, partial, dtype, metadata, maxShardBytes);
            ReplaceFolder(partial, full);
        }
        catch
        {
            TryDeleteFolder(partial);
            throw;
        }
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

    static void RequireParentFolder(string full)
    {
        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: the output folder does not exist");
    }

    /// <summary>An existing folder is replaced only if it is empty or holds nothing but model-folder files.</summary>
    static void CheckReplaceable(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        var foreign = Directory.EnumerateFileSystemEntries(directory)
            .Where(e => Directory.Exists(e) || !HuggingFaceExport.IsModelFolderFile(Path.GetFileName(e)))
            .Select(Path.GetFileName).Take(3).ToList();
        if (foreign.Count > 0)
            throw new IOException($"{directory} exists and holds files that are not part of a model folder ({string.Join(", ", foreign)}); not replacing it. Choose a new folder.");
    }

    /// <summary>Moves the finished folder into place; an earlier export there is moved aside first and deleted after.</summary>
    static void ReplaceFolder(string finished, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(finished, target);
            return;
        }
        string previous = $"{target}.previous-{Guid.NewGuid():N}";
        Directory.Move(target, previous);
        try
        {
            Directory.Move(finished, target);
        }
        catch
        {
            Directory.Move(previous, target);
            throw;
        }
        TryDeleteFolder(previous);
    }

    static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static void TryDeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
