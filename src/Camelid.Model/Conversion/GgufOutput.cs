using System.Diagnostics;
using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Tensors.Quant;
using Camelid.Tensors.Threading;

namespace Camelid.Model.Conversion;

/// <summary>A tensor to write: converted from an fp32 row source, copied as stored, or from rows already in its type.</summary>
sealed record PlannedTensor(ConvertedTensor Info, RowSource? Source, TensorEntry? StoredBytes, RowBytesSource? Bytes = null);

/// <summary>
/// Writes a converted GGUF file, shared by synth and quantize: metadata as given, then each tensor streamed
/// through <see cref="TensorStreamer"/> (or copied), into "OUT.partial" beside the output, renamed to OUT only
/// when complete, so a failed or interrupted run leaves no half-written model under the real name.
/// </summary>
static class GgufOutput
{
    /// <summary>GGML_QNT_VERSION: the version of the quantized block layouts, which llama.cpp writes in every file.</summary>
    public const uint QuantizationVersion = 2;

    public static ConversionResult Write(string path, LlamaFileType fileType, IEnumerable<(string Key, object Value)> metadata,
        IReadOnlyList<PlannedTensor> tensors, ConversionOptions options, uint ggufVersion = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Threads, 1, nameof(options.Threads));
        string full = Path.GetFullPath(path);
        string partial = full + ".partial";
        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: the output folder does not exist");
        var clock = Stopwatch.StartNew();
        var writer = new GgufWriter { Version = ggufVersion };
        foreach (var (key, value) in metadata)
            writer.Add(key, value);

        long total = tensors.Sum(t => t.Info.ByteCount), written = 0;
        using var pool = new ComputePool(options.Threads);
        for (int i = 0; i < tensors.Count; i++)
        {
            var (info, source, stored, bytes) = tensors[i];
            int index = i;
            void Report() => options.Progress?.Invoke(new ConversionProgress(index, tensors.Count, info.Name, info.Type, written, total));
            Action<long> advance = n =>
            {
                written += n;
                Report();
            };
            writer.AddTensor(info.Name, info.Type, info.Shape, stream =>
            {
                Report();
                if (stored != null)
                    TensorStreamer.Copy(stream, stored, advance, options.Cancellation);
                else if (bytes != null)
                    TensorStreamer.WriteBytes(stream, RowsOf(info.Shape), GgmlTypes.RowBytes(info.Type, ColsOf(info.Shape)), bytes, advance, options.Cancellation);
                else
                    TensorStreamer.Write(stream, info.Type, RowsOf(info.Shape), ColsOf(info.Shape), source!, pool, advance, options.Cancellation);
            });
        }

        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                writer.Write(stream);
            File.Move(partial, full, overwrite: true);
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
        return new ConversionResult(full, fileType, new FileInfo(full).Length, tensors.Select(t => t.Info).ToList(), clock.Elapsed);
    }

    /// <summary>llama.cpp writes both keys last (gguf_set_val removes a key and appends it), in this order.</summary>
    public static IEnumerable<(string Key, object Value)> FileTypeKeys(LlamaFileType fileType) =>
    [
        ("general.quantization_version", QuantizationVersion),
        ("general.file_type", (uint)fileType),
    ];

    /// <summary>A tensor as a matrix: every dimension but the innermost is a row.</summary>
    static long RowsOf(long[] shape) => shape.Length <= 1 ? 1 : shape[..^1].Aggregate(1L, (a, b) => a * b);

    static int ColsOf(long[] shape) => checked((int)(shape.Length == 0 ? 1 : shape[^1]));

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
