// `camelid quantize IN.gguf OUT.gguf --type TYPE`: llama-quantize for LLaMA GGUF files, without an importance
// matrix. Like llama-quantize (src/llama-quant.cpp, llama_model_quantize_impl) it
// - copies every metadata key in order, minus split.* keys, then sets general.quantization_version = 2 and
//   general.file_type = TYPE at the end;
// - writes the tensors in its (layer, name) order, each of the type TensorTypeRules picks; a tensor already of
//   that type is copied unchanged, any other is converted to fp32 (F16/BF16 widened, quantized types
//   dequantized) and quantized with the reference quantizers, row by row, so the bytes are llama-quantize's.
// Unlike llama-quantize it requantizes already-quantized tensors without --allow-requantize, with a warning,
// and it streams: one block of rows in memory at a time, output to OUT.partial renamed at the end.
using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

public static class GgufQuantizer
{
    static readonly string[] DroppedKeys = ["split.no", "split.count", "split.tensors.count", "general.quantization_version", "general.file_type"];

    /// <param name="warning">Told about lossy requantization of tensors that are already quantized.</param>
    public static ConversionResult Quantize(string inputPath, string outputPath, LlamaFileType fileType,
        ConversionOptions? options = null, Action<string>? warning = null)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        if (!File.Exists(inputPath))
            throw new ModelFormatException($"{inputPath}: no such file");
        if (SameFile(inputPath, outputPath))
            throw new ArgumentException($"the output {outputPath} is the input file; write the quantized model to another path");
        if (!GgufFile.HasGgufMagic(inputPath))
            throw new ModelFormatException($"{inputPath}: not a GGUF file; quantize reads GGUF models (convert other formats first)");

        using var file = GgufFile.Open(inputPath);
        var embedding = file.Find(TensorNames.Gguf.TokenEmbedding)
            ?? throw new ModelFormatException($"{inputPath}: no {TensorNames.Gguf.TokenEmbedding} tensor; this is not a LLaMA model file");
        var config = LlamaConfig.FromGguf(file.Metadata, (int)embedding.Rows, null);
        var rules = new TensorTypeRules(fileType, file.Tensors.Select(t => t.Name), config);

        var planned = new List<PlannedTensor>(file.Tensors.Count);
        var requantized = new List<TensorEntry>();
        foreach (var t in file.Tensors.OrderBy(t => t.Name, Comparer<string>.Create(TensorTypeRules.CompareForFileOrder)))
        {
            var type = rules.TypeFor(t.Name, t.Shape, t.Type, out bool fellBack);
            var info = new ConvertedTensor(t.Name, t.Shape, type, t.Type, fellBack);
            if (type == t.Type)
            {
                planned.Add(new PlannedTensor(info, null, t));
                continue;
            }
            if (GgmlTypes.IsQuantized(t.Type))
                requantized.Add(t);
            planned.Add(new PlannedTensor(info, Dequantized(t), null));
        }
        if (requantized.Count > 0)
            warning?.Invoke($"{requantized.Count} tensor(s) are already quantized ({string.Join(", ", requantized.Select(t => t.Type).Distinct())}); " +
                            "they are dequantized and quantized again, which adds to their error: quantize from an F32/F16/BF16 file when you can");

        var metadata = file.MetadataKeys.Where(k => !DroppedKeys.Contains(k)).Select(k => (k, file.Metadata.Get(k)!))
            .Concat(GgufOutput.FileTypeKeys(fileType));
        return GgufOutput.Write(outputPath, fileType, metadata, planned, options ?? new ConversionOptions());
    }

    /// <summary>Rows of a stored tensor as fp32 (a copy for F32, exact widening for F16/BF16, ggml's dequantization otherwise).</summary>
    static RowSource Dequantized(TensorEntry t)
    {
        int cols = checked((int)t.Cols);
        return (firstRow, rowCount, destination) =>
        {
            var rows = t.RowBytes(firstRow, rowCount);
            int rowBytes = rows.Length / Math.Max(rowCount, 1);
            for (int r = 0; r < rowCount; r++)
                Dequantizer.DequantizeRow(t.Type, rows.Slice(r * rowBytes, rowBytes), destination.Slice(r * cols, cols));
        };
    }

    static bool SameFile(string a, string b)
    {
        static string Resolve(string p)
        {
            var full = Path.GetFullPath(p);
            return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : full;
        }
        return string.Equals(Resolve(a), Resolve(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }
}
