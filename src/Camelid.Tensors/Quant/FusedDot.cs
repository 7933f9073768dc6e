using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Camelid.Tensors.Kernels;
using static Camelid.Tensors.Quant.BlockLayout;

namespace Camelid.Tensors.Quant;

/// <summary>
/// Dot products of one ggml weight row, read in place from the model file, with one token's int8
/// activations (<see cref="FusedActivations"/>): the decode-time kernels. Weights are unpacked in registers
/// only, so each weight byte is read from memory once and never written back.
/// Integer products use vpmaddubsw (unsigned weight level × signed activation, pairs summed to int16) and
/// vpmaddwd (pairs of int16 summed to int32, multiplied by 1 or by the sub-block scale); every bound below
/// keeps the int16 sums clear of saturation: Q4 levels ≤ 15, Q6 levels ≤ 63, |activation| ≤ 127.
/// The kernels here need AVX-512 BW and VBMI; on AVX2-only CPUs the 256-bit twins in FusedDotAvx2.cs run instead.
/// <see cref="IsSupported"/> says when a type and row length can use either, and
/// <see cref="MatMul"/> otherwise takes the portable unpacking path. Tested against that path and the
/// scalar reference.
/// </summary>
internal static unsafe partial class FusedDot
{
    static bool Available => Avx512BW.IsSupported && Avx512Vbmi.IsSupported;

    public static bool IsSupported(GgmlType type, int cols) => Available ? type switch
    {
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q8_0 => cols % 128 == 0,
        GgmlType.Q4_K or GgmlType.Q6_K => cols % 256 == 0,
        _ => false,
    } : IsSupportedAvx2(type, cols);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(GgmlType type, byte* row, FusedActivations a, int n) => !Available
        ? throw new InvalidOperationException("without AVX-512 the decode kernels take interleaved activations (DotInterleavedAvx2)")
        : type switch
    {
        GgmlType.Q4_0 => DotQ4_0(row, a, n),
        GgmlType.Q4_1 => DotQ4_1(row, a, n),
        GgmlType.Q8_0 => DotQ8_0(row, a, n),
        GgmlType.Q4_K => DotQ4_K(row, a, n),
        _ => DotQ6_K(row, a, n),
    };

    /// <summary>
    /// 4 blocks (72 bytes, 128 weights) per step. One byte permute gathers the 4 blocks' 16 nibble bytes;
    /// low nibbles are weights 0..15 of each block, high nibbles 16..31 (the activations are laid out to
    /// match). int32 lane k holds 4+4 products of block k/4; it starts from -8·Σa so the result is Σ(q-8)·a.
    /// </summary>
    static float DotQ4_0(byte* row, FusedActivations a, int n)
    {
        var acc = Vector512<float>.Zero;
        var nibbleMask = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        var gatherNibbles = Q4_0NibbleIndex;
        var gatherScales = Q4_0ScaleIndex;
        for (int g = 0; g < n / 128; g++)
        {
            byte* blocks = row + g * 4 * Q4_0Bytes;
            Prefetch(blocks, 2);
            var lower = Vector512.Load(blocks);      // bytes 0..63
            var upper = Vector512.Load(blocks + 8);  // bytes 8..71: the rest of the 4th block, no over-read
            var packed = Avx512Vbmi.PermuteVar64x8x2(lower, gatherNibbles, upper);
            var low = packed & nibbleMask;
            var high = Vector512.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbleMask;
            sbyte* q = a.Quants + g * 128;
            var pairs = Avx512BW.MultiplyAddAdjacent(low, Vector512.Load(q))
                      + Avx512BW.MultiplyAddAdjacent(high, Vector512.Load(q + 64));
            var lanes = Avx512BW.MultiplyAddAdjacent(pairs, ones) + Vector512.Load(a.LaneBias + g * 16);
            var scales = HalvesInHighWords(Avx512BW.PermuteVar32x16(lower.AsInt16(), gatherScales)) * Vector512.Load(a.LaneScales + g * 16);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes), scales, acc);
        }
        return Vector512.Sum(acc);
    }

    /// <summary>
    /// Q4_1, w = d·q + m: 4 blocks (80 bytes) per step with Q4_0's nibble gather; the minimum meets each
    /// lane's activation sum (<see cref="FusedActivations.LaneSums"/>) in a second accumulator.
    /// </summary>
    static float DotQ4_1(byte* row, FusedActivations a, int n)
    {
        var acc = Vector512<float>.Zero;
        var minimums = Vector512<float>.Zero;
        var nibbleMask = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        var gatherNibbles = Q4_1NibbleIndex;
        var gatherScales = Q4_1ScaleIndex;
        var gatherMins = Q4_1MinIndex;
        sbyte* q = a.Quants;
        for (int g = 0; g < n / 128; g++)
        {
            byte* blocks = row + g * 4 * Q4_1Bytes;
            Prefetch(blocks, 2);
            var lower = Vector512.Load(blocks);      // bytes 0..63
            var upper = Vector512.Load(blocks + 16); // bytes 16..79
            var packed = Avx512Vbmi.PermuteVar64x8x2(lower, gatherNibbles, upper);
            var low = packed & nibbleMask;
            var high = Vector512.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & nibbleMask;
            var pairs = Avx512BW.MultiplyAddAdjacent(low, Vector512.Load(q + g * 128))
                      + Avx512BW.MultiplyAddAdjacent(high, Vector512.Load(q + g * 128 + 64));
            var lanes = Avx512BW.MultiplyAddAdjacent(pairs, ones);
            var activationScales = Vector512.Load(a.LaneScales + g * 16);
            var scales = HalvesInHighWords(Avx512BW.PermuteVar32x16(lower.AsInt16(), gatherScales)) * activationScales;
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes), scales, acc);
            var mins = HalvesInHighWords(Avx512BW.PermuteVar32x16(lower.AsInt16(), gatherMins));
            minimums = Avx512F.FusedMultiplyAdd(mins, Vector512.Load(a.LaneSums + g * 16), minimums);
        }
        return Vector512.Sum(acc + minimums);
    }

    /// <summary>
    /// 4 blocks (136 bytes) per step, two per 512-bit register. Signed weights: |w| times a·sign(w) keeps
    /// vpmaddubsw's first operand unsigned (|w| ≤ 127, pair sums ≤ 32258).
    /// </summary>
    static float DotQ8_0(byte* row, FusedActivations a, int n)
    {
        var acc0 = Vector512<float>.Zero;
        var acc1 = Vector512<float>.Zero;
        var ones = Vector512.Create((short)1);
        var scales01 = Q8_0ScaleIndex01;
        var scales23 = Q8_0ScaleIndex23;
        sbyte* q = a.Quants;
        for (int g = 0; g < n / 128; g++)
        {
            byte* blocks = row + g * 4 * Q8_0Bytes;
            Prefetch(blocks, 3);
            var w01 = Vector512.Create(Vector256.Load(blocks + 2), Vector256.Load(blocks + Q8_0Bytes + 2)).AsSByte();
            var w23 = Vector512.Create(Vector256.Load(blocks + 2 * Q8_0Bytes + 2), Vector256.Load(blocks + 3 * Q8_0Bytes + 2)).AsSByte();
            var lanes01 = Avx512BW.MultiplyAddAdjacent(SignedPairs(w01, Vector512.Load(q + g * 128)), ones);
            var lanes23 = Avx512BW.MultiplyAddAdjacent(SignedPairs(w23, Vector512.Load(q + g * 128 + 64)), ones);
            var lower = Vector512.Load(blocks).AsInt16();
            var upper = Vector512.Load(blocks + 64).AsInt16();
            var d01 = HalvesInHighWords(Avx512BW.PermuteVar32x16x2(lower, scales01, upper)) * Vector512.Load(a.LaneScales + g * 32);
            var d23 = HalvesInHighWords(Avx512BW.PermuteVar32x16x2(lower, scales23, upper)) * Vector512.Load(a.LaneScales + g * 32 + 16);
            acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes01), d01, acc0);
            acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes23), d23, acc1);
        }
        return Vector512.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> SignedPairs(Vector512<sbyte> w, Vector512<sbyte> x)
    {
        var negative = Vector512.LessThan(w, Vector512<sbyte>.Zero);
        var signedX = Vector512.ConditionalSelect(negative, Vector512<sbyte>.Zero - x, x);
        return Avx512BW.MultiplyAddAdjacent(Vector512.Abs(w).AsByte(), signedX);
    }

    /// <summary>
    /// One super-block (144 bytes, 256 weights) per step: w = d·sc_j·q − dmin·m_j for sub-block j of 32.
    /// The 6-bit scales multiply the int16 pair sums inside vpmaddwd, so a super-block needs one conversion
    /// to float; the minimums meet the activations' sub-block sums in an 8-wide integer dot.
    /// </summary>
    static float DotQ4_K(byte* row, FusedActivations a, int n)
    {
        var acc = Vector512<float>.Zero;
        float minimums = 0;
        var nibbleMask = Vector512.Create((byte)0x0F);
        var spread0 = Q4_KScaleIndex0; var spread1 = Q4_KScaleIndex1; var spread2 = Q4_KScaleIndex2; var spread3 = Q4_KScaleIndex3;
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q4_KBytes;
            Prefetch(block, 3);
            sbyte* q = a.Quants + b * 256;
            UnpackQ4_KScales(block + 4, out ulong scaleBytes, out ulong minBytes);
            var scales = Vector512.Create(Vector256.Create(Vector128.WidenLower(Vector128.CreateScalar(scaleBytes).AsByte()).AsInt16(), Vector128<short>.Zero), Vector256<short>.Zero);
            var qs0 = Vector512.Load(block + 16);
            var qs1 = Vector512.Load(block + 80);
            var low0 = qs0 & nibbleMask;
            var high0 = Vector512.ShiftRightLogical(qs0.AsUInt16(), 4).AsByte() & nibbleMask;
            var low1 = qs1 & nibbleMask;
            var high1 = Vector512.ShiftRightLogical(qs1.AsUInt16(), 4).AsByte() & nibbleMask;
            var lanes = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(low0, Vector512.Load(q)), Avx512BW.PermuteVar32x16(scales, spread0))
                      + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(high0, Vector512.Load(q + 64)), Avx512BW.PermuteVar32x16(scales, spread1))
                      + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(low1, Vector512.Load(q + 128)), Avx512BW.PermuteVar32x16(scales, spread2))
                      + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(high1, Vector512.Load(q + 192)), Avx512BW.PermuteVar32x16(scales, spread3));
            float da = a.BlockScales[b];
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)block) * da;
            float dmin = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 2)) * da;
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes), Vector512.Create(d), acc);
            var mins = Vector128.WidenLower(Vector128.CreateScalar(minBytes).AsByte()).AsInt16();
            minimums += dmin * Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, Vector128.Load(a.BlockSums + b * 8)));
        }
        return Vector512.Sum(acc) - minimums;
    }

    /// <summary>The 12 packed bytes of a Q4_K super-block's 6-bit scales and minimums, as 8 bytes each
    /// (ggml's get_scale_min_k4, done on 32-bit words).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void UnpackQ4_KScales(byte* packed, out ulong scales, out ulong mins)
    {
        const uint low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
        uint w0 = Unsafe.ReadUnaligned<uint>(packed), w1 = Unsafe.ReadUnaligned<uint>(packed + 4), w2 = Unsafe.ReadUnaligned<uint>(packed + 8);
        uint sc0 = w0 & low6;                                       // scales 0..3
        uint m0 = w1 & low6;                                        // minimums 0..3
        uint sc1 = (w2 & low4) | (((w0 >> 6) & low2) << 4);        // scales 4..7
        uint m1 = ((w2 >> 4) & low4) | (((w1 >> 6) & low2) << 4);  // minimums 4..7
        scales = sc0 | (ulong)sc1 << 32;
        mins = m0 | (ulong)m1 << 32;
    }

    /// <summary>
    /// One super-block (210 bytes, 256 weights) per step: w = d·sc_j·(q − 32) for sub-block j of 16, q the
    /// 4 low bits from ql and 2 high bits from qh. Each half (128 weights) is two registers whose levels come
    /// out in natural order; the −32 offset meets the activations' sub-block sums in a 16-wide integer dot.
    /// </summary>
    static float DotQ6_K(byte* row, FusedActivations a, int n)
    {
        var acc = Vector512<float>.Zero;
        float offsets = 0;
        var nibbleMask = Vector512.Create((byte)0x0F);
        var highBits = Vector512.Create((byte)0x30);
        var spread0 = Q6_KScaleIndex0; var spread1 = Q6_KScaleIndex1; var spread2 = Q6_KScaleIndex2; var spread3 = Q6_KScaleIndex3;
        for (int b = 0; b < n / 256; b++)
        {
            byte* block = row + b * Q6_KBytes;
            Prefetch(block, 4);
            sbyte* q = a.Quants + b * 256;
            var scales16 = Vector256.WidenLower(Vector256.Create(Vector128.Load((sbyte*)block + 192), Vector128<sbyte>.Zero)); // 16 × int16
            var scales = Vector512.Create(scales16, Vector256<short>.Zero);
            var lanes = Vector512<int>.Zero;
            for (int half = 0; half < 2; half++)
            {
                var ql = Vector512.Load(block + 64 * half);
                var qh = Vector256.Load(block + 128 + 32 * half);
                var qh2 = Vector512.Create(qh, Vector256.ShiftRightLogical(qh.AsUInt16(), 2).AsByte());
                var levels0 = (ql & nibbleMask) | (Vector512.ShiftLeft(qh2.AsUInt16(), 4).AsByte() & highBits);
                var levels1 = (Vector512.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & nibbleMask) | (qh2 & highBits);
                lanes += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(levels0, Vector512.Load(q + 128 * half)), Avx512BW.PermuteVar32x16(scales, half == 0 ? spread0 : spread2))
                       + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(levels1, Vector512.Load(q + 128 * half + 64)), Avx512BW.PermuteVar32x16(scales, half == 0 ? spread1 : spread3));
            }
            float d = HalfPrecision.HalfBitsToSingle(*(ushort*)(block + 208)) * a.BlockScales[b];
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(lanes), Vector512.Create(d), acc);
            int offsetSum = Vector256.Sum(Avx2.MultiplyAddAdjacent(scales16, Vector256.Load(a.BlockSums + b * 16)));
            offsets += d * 32 * offsetSum;
        }
        return Vector512.Sum(acc) - offsets;
    }

    /// <summary>Prefetch distance: a single core's hardware prefetchers stop at page boundaries and keep too
    /// few lines in flight to reach the memory bandwidth while the kernel computes.</summary>
    const int PrefetchBytes = 2048;

    /// <summary>Requests the <paramref name="lines"/> cache lines that a step <see cref="PrefetchBytes"/> ahead will read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Prefetch(byte* step, int lines)
    {
        Sse.Prefetch0(step + PrefetchBytes);
        Sse.Prefetch0(step + PrefetchBytes + 64);
        if (lines > 2) Sse.Prefetch0(step + PrefetchBytes + 128);
        if (lines > 3) Sse.Prefetch0(step + PrefetchBytes + 192);
    }

    /// <summary>fp16 values held in the high 16 bits of each 32-bit lane, as fp32 (finite inputs, subnormals
    /// included): shifting exponent and mantissa into fp32 position and scaling by 2^112 rebiases the exponent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> HalvesInHighWords(Vector512<short> words)
    {
        var bits = words.AsUInt32();
        var magnitude = Vector512.ShiftRightLogical(bits & Vector512.Create(0x7FFF0000u), 3).AsSingle() * Vector512.Create(5.192296858534828e33f); // 2^112
        return (magnitude.AsUInt32() | (bits & Vector512.Create(0x80000000u))).AsSingle();
    }

    // Permutation tables, built once (static readonly vectors fold into constants after tiering).

    /// <summary>Output byte 16b+i ← nibble byte i of block b (at 18b+2+i); ≥ 64 selects from the load at offset 8.</summary>
    static readonly Vector512<byte> Q4_0NibbleIndex = Table<byte>(64, o =>
    {
        int position = Q4_0Bytes * (o / 16) + 2 + o % 16;
        return position < 64 ? position : 64 + position - 8;
    });

    /// <summary>Lane k's high word ← the fp16 scale of block k/4 (word 9·(k/4)).</summary>
    static readonly Vector512<short> Q4_0ScaleIndex = Table<short>(32, word => Q4_0Bytes / 2 * (word / 8));

    /// <summary>Q4_1 blocks are 20 bytes: d at 20b, m at 20b+2, nibbles at 20b+4; ≥ 64 selects from the load at offset 16.</summary>
    static readonly Vector512<byte> Q4_1NibbleIndex = Table<byte>(64, o =>
    {
        int position = Q4_1Bytes * (o / 16) + 4 + o % 16;
        return position < 64 ? position : 64 + position - 16;
    });
    static readonly Vector512<short> Q4_1ScaleIndex = Table<short>(32, word => Q4_1Bytes / 2 * (word / 8));
    static readonly Vector512<short> Q4_1MinIndex = Table<short>(32, word => Q4_1Bytes / 2 * (word / 8) + 1);

    /// <summary>Lanes 0..7 ← block 0's scale, 8..15 ← block 1's (words 0, 17); blocks 2, 3 at words 34, 51 of the two loads.</summary>
    static readonly Vector512<short> Q8_0ScaleIndex01 = Table<short>(32, word => Q8_0Bytes / 2 * (word / 16));
    static readonly Vector512<short> Q8_0ScaleIndex23 = Table<short>(32, word => Q8_0Bytes / 2 * (2 + word / 16));

    /// <summary>int16 pair j of a register covers sub-block order[slot]; Q4_K registers hold sub-blocks (0,2), (1,3), (4,6), (5,7).</summary>
    static readonly Vector512<short> Q4_KScaleIndex0 = Table<short>(32, j => j < 16 ? 0 : 2);
    static readonly Vector512<short> Q4_KScaleIndex1 = Table<short>(32, j => j < 16 ? 1 : 3);
    static readonly Vector512<short> Q4_KScaleIndex2 = Table<short>(32, j => j < 16 ? 4 : 6);
    static readonly Vector512<short> Q4_KScaleIndex3 = Table<short>(32, j => j < 16 ? 5 : 7);

    /// <summary>Q6_K: 8 int16 pairs per sub-block of 16; register r of the super-block covers sub-blocks 4r..4r+3.</summary>
    static readonly Vector512<short> Q6_KScaleIndex0 = Table<short>(32, j => j / 8);
    static readonly Vector512<short> Q6_KScaleIndex1 = Table<short>(32, j => 4 + j / 8);
    static readonly Vector512<short> Q6_KScaleIndex2 = Table<short>(32, j => 8 + j / 8);
    static readonly Vector512<short> Q6_KScaleIndex3 = Table<short>(32, j => 12 + j / 8);

    static Vector512<T> Table<T>(int count, Func<int, int> entry) where T : unmanaged, System.Numerics.INumber<T>
    {
        var values = new T[count];
        for (int i = 0; i < count; i++)
            values[i] = T.CreateTruncating(entry(i));
        return Vector512.Create(values);
    }
}
