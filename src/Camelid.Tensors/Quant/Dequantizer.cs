using System.Runtime.InteropServices;

namespace Camelid.Tensors.Quant;

/// <summary>Converts one row of any supported type to fp32.</summary>
public static class Dequantizer
{
    public static void DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                MemoryMarshal.Cast<byte, float>(src)[..dst.Length].CopyTo(dst);
                break;
            case GgmlType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src)[..dst.Length], dst);
                break;
            default:
                throw new NotSupportedException($"dequantizing {type} is not implemented yet");
        }
    }
}
