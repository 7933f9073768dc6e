using System.Buffers.Binary;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Tests.Reference;

/// <summary>
/// The stored bytes of a fixture tensor, generated from its seed exactly as tools/make_logits_fixtures.py
/// generates them (see that script's header for the recipe): fixtures then hold no weights at all.
/// </summary>
public static class SyntheticTensors
{
    /// <summary>An f16 field of a quantized block that is overwritten with a sane positive or negative scale.</summary>
    readonly record struct ScaleField(int Offset, int Sign, double Scale);

    // Byte offsets of the f16 fields inside each block, from the structs of ggml-common.h
    // (block_q4_0 {d, qs}, block_q4_1 {d, m, qs}, block_q5_0 {d, qh, qs}, block_q5_1 {d, m, qh, qs},
    // block_q8_0 {d, qs}, block_q4_K/q5_K {d, dmin, scales, ...}, block_q6_K {ql, qh, scales, d}).
    // Same table as QUANT_FIELDS in the script.
    static ScaleField[] FieldsOf(GgmlType t) => t switch
    {
        GgmlType.Q4_0 => [new(0, 1, 1.0 / 64)],
        GgmlType.Q4_1 => [new(0, 1, 1.0 / 64), new(2, -1, 1.0 / 8)],
        GgmlType.Q5_0 => [new(0, 1, 1.0 / 128)],
        GgmlType.Q5_1 => [new(0, 1, 1.0 / 128), new(2, -1, 1.0 / 8)],
        GgmlType.Q8_0 => [new(0, 1, 1.0 / 1024)],
        GgmlType.Q4_K => [new(0, 1, 1.0 / 1024), new(2, 1, 1.0 / 128)],
        GgmlType.Q5_K => [new(0, 1, 1.0 / 2048), new(2, 1, 1.0 / 128)],
        GgmlType.Q6_K => [new(208, 1, 1.0 / 8192)],
        _ => throw new NotSupportedException($"no synthetic generator for {t}"),
    };

    public static byte[] Bytes(TensorSpec spec)
    {
        var type = spec.GgmlType;
        return type switch
        {
            GgmlType.F32 => FloatBytes(spec, 4, (v, dst) => BinaryPrimitives.WriteSingleLittleEndian(dst, v)),
            GgmlType.F16 => FloatBytes(spec, 2, (v, dst) => BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)v)),
            // BF16 keeps the top half of the f32 bits (truncation, as the script does).
            GgmlType.BF16 => FloatBytes(spec, 2, (v, dst) =>
                BinaryPrimitives.WriteUInt16LittleEndian(dst, (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))),
            _ => QuantizedBytes(spec, type),
        };
    }

    /// <summary>The f32 values of a float tensor before conversion to its storage type.</summary>
    public static float[] FloatValues(TensorSpec spec)
    {
        if (spec.Values is { } literal)
        {
            if (literal.Length != spec.ElementCount)
                throw new InvalidDataException($"tensor {spec.Name}: {literal.Length} values for {spec.ElementCount} elements");
            return literal;
        }
        var rng = new SplitMix64((ulong)spec.Seed);
        var values = new float[spec.ElementCount];
        for (int i = 0; i < values.Length; i++)
        {
            float scaled = spec.Scale * rng.NextSigned();
            values[i] = spec.Offset + scaled;
        }
        return values;
    }

    delegate void Store(float value, Span<byte> destination);

    static byte[] FloatBytes(TensorSpec spec, int width, Store store)
    {
        var values = FloatValues(spec);
        var bytes = new byte[values.Length * width];
        for (int i = 0; i < values.Length; i++)
            store(values[i], bytes.AsSpan(i * width, width));
        return bytes;
    }

    static byte[] QuantizedBytes(TensorSpec spec, GgmlType type)
    {
        var fields = FieldsOf(type);
        int blockElems = GgmlTypes.BlockSize(type), blockBytes = GgmlTypes.BlockBytes(type);
        if (spec.Shape[^1] % blockElems != 0)
            throw new InvalidDataException($"tensor {spec.Name}: rows of {spec.Shape[^1]} are not whole {type} blocks of {blockElems}");
        long blocks = spec.ElementCount / blockElems;
        var bytes = new byte[blocks * blockBytes];
        var rng = new SplitMix64((ulong)spec.Seed);
        Span<byte> word = stackalloc byte[8];
        for (int i = 0; i < bytes.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(word, rng.Next());
            word[..Math.Min(8, bytes.Length - i)].CopyTo(bytes.AsSpan(i));
        }
        for (long b = 0; b < blocks; b++)
            foreach (var f in fields)
            {
                // (1024 + 10 random bits) / 1024 times a power of two: exact in f16, so no rounding question.
                double v = f.Sign * f.Scale * (1024 + (double)(rng.Next() >> 54)) / 1024.0;
                var h = (Half)v;
                if ((double)h != v)
                    throw new InvalidOperationException($"scale {v} is not exact in f16");
                BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan((int)(b * blockBytes + f.Offset), 2), h);
            }
        return bytes;
    }
}
