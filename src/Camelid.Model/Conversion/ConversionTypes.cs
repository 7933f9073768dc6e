using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

/// <summary>Runtime choices of `synth` and `quantize`; none of them changes the bytes written.</summary>
public sealed record ConversionOptions
{
    /// <summary>Threads that generate and quantize rows (default: one per core).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Called on the writing thread after each block of rows (a few MB) and at each tensor's start.</summary>
    public Action<ConversionProgress>? Progress { get; init; }

    /// <summary>Stops between blocks of rows; the partly written file is deleted.</summary>
    public CancellationToken Cancellation { get; init; }
}

/// <summary>How far a conversion is: the tensor being written and the bytes of tensor data written so far.</summary>
public sealed record ConversionProgress(int TensorIndex, int TensorCount, string TensorName, GgmlType Type, long BytesWritten, long BytesTotal)
{
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesWritten / BytesTotal;
}

/// <summary>One tensor of a written file: the type it was written as and the type it came from.</summary>
public sealed record ConvertedTensor(string Name, long[] Shape, GgmlType Type, GgmlType SourceType, bool FellBack)
{
    public long ByteCount => TensorSizes.Bytes(Type, Shape);
}

/// <summary>What a conversion wrote.</summary>
public sealed record ConversionResult(string Path, LlamaFileType FileType, long FileBytes, IReadOnlyList<ConvertedTensor> Tensors, TimeSpan Elapsed)
{
    /// <summary>Tensors whose rows did not fit the type the rules chose, so a fallback type was used.</summary>
    public int Fallbacks => Tensors.Count(t => t.FellBack);

    /// <summary>"Q4_K x 155, Q6_K x 23, F32 x 45", most bytes first.</summary>
    public string TypeSummary => string.Join(", ", Tensors.GroupBy(t => t.Type)
        .OrderByDescending(g => g.Sum(t => t.ByteCount)).Select(g => $"{g.Key} x {g.Count()}"));
}

static class TensorSizes
{
    public static long Bytes(GgmlType type, long[] shapeOutermostFirst) => Formats.TensorEntry.ExpectedBytes(type, shapeOutermostFirst);
}
