using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Benchmarking;

/// <summary>
/// One arithmetic loop that keeps a SIMD unit as busy as it can be: <see cref="Run"/> executes
/// <c>iterations</c> rounds of <see cref="OpsPerIteration"/> operations and returns a value derived from
/// the results, so the JIT cannot drop the work.
/// </summary>
/// <param name="Name">short id, e.g. <c>fp32_fma_512</c></param>
/// <param name="Instructions">what the loop issues, e.g. <c>vfmadd zmm (AVX-512F)</c></param>
/// <param name="Unit">GFLOP/s or GOP/s (an int8 multiply-accumulate counts as 2 operations)</param>
public sealed record PeakLoop(string Name, string Instructions, string Unit, bool IsSupported, double OpsPerIteration, Func<long, long> Run);

/// <summary>
/// Micro-loops that measure what one core can do at best: independent accumulator chains held in
/// registers (enough of them to cover the instruction latency times the number of execution ports),
/// and a streaming read that is bound by memory, not by the adds. <c>camelid bench --machine</c> runs
/// them so kernel speeds can be read as a fraction of the physical limit.
/// </summary>
public static unsafe class PeakLoops
{
    /// <summary>Every compute loop, supported on this machine or not (then <see cref="PeakLoop.Run"/> throws).</summary>
    public static IReadOnlyList<PeakLoop> Compute { get; } =
    [
        new("fp32_fma_512", "vfmadd231ps zmm (AVX-512F)", "GFLOP/s", Avx512F.IsSupported, FmaChains * 16 * 2, Fma512),
        new("fp32_fma_256", "vfmadd231ps ymm (FMA3)", "GFLOP/s", Fma.IsSupported, FmaChains * 8 * 2, Fma256),
        new("int8_madd_512", "vpmaddubsw+vpmaddwd zmm (AVX-512BW)", "GOP/s", Avx512BW.IsSupported, IntChains * 64 * 2, Int8Madd512),
        new("int8_madd_256", "vpmaddubsw+vpmaddwd ymm (AVX2)", "GOP/s", Avx2.IsSupported, IntChains * 32 * 2, Int8Madd256),
        new("int8_vnni_256", "vpdpbusd ymm (AVX-VNNI)", "GOP/s", AvxVnni.IsSupported, IntChains * 32 * 2, Int8Vnni256),
    ];

    // FMA: latency 4 × 2 ports needs at least 8 chains in flight. The int8 pairs have ~10 cycles of latency.
    // 12 accumulators plus 2 constants still fit the 16 ymm registers of AVX2.
    const int FmaChains = 12;
    const int IntChains = 12;

    /// <summary>The loads <see cref="Read"/> uses on this machine.</summary>
    public static string ReadInstructions => Vector512.IsHardwareAccelerated ? "Vector512 loads" : Vector256.IsHardwareAccelerated ? "Vector256 loads" : "Vector128 loads";

    /// <summary>Reads <paramref name="bytes"/> bytes (a multiple of 64) at <paramref name="data"/> with the
    /// widest vector loads; integer adds into 4 accumulators keep it bound by memory, never by special
    /// float values. Returns a checksum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Read(byte* data, long bytes)
    {
        if (bytes % 64 != 0)
            throw new ArgumentException($"the length must be a multiple of 64 bytes, got {bytes}", nameof(bytes));
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<long> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 256 <= bytes; i += 256)
            {
                a0 += Vector512.Load((long*)(data + i));
                a1 += Vector512.Load((long*)(data + i + 64));
                a2 += Vector512.Load((long*)(data + i + 128));
                a3 += Vector512.Load((long*)(data + i + 192));
            }
            for (; i < bytes; i += 64)
                a0 += Vector512.Load((long*)(data + i));
            return Vector512.Sum(a0 + a1 + a2 + a3);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<long> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 128 <= bytes; i += 128)
            {
                a0 += Vector256.Load((long*)(data + i));
                a1 += Vector256.Load((long*)(data + i + 32));
                a2 += Vector256.Load((long*)(data + i + 64));
                a3 += Vector256.Load((long*)(data + i + 96));
            }
            for (; i < bytes; i += 32)
                a0 += Vector256.Load((long*)(data + i));
            return Vector256.Sum(a0 + a1 + a2 + a3);
        }
        Vector128<long> b0 = default, b1 = default;
        for (; i < bytes; i += 32)
        {
            b0 += Vector128.Load((long*)(data + i));
            b1 += Vector128.Load((long*)(data + i + 16));
        }
        return Vector128.Sum(b0 + b1);
    }

    // c ← c·a + b with a just below 1 converges to b/(1-a) = 1: no overflow, no denormals, however long it runs.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Fma512(long iterations)
    {
        if (!Avx512F.IsSupported) throw new PlatformNotSupportedException("AVX-512F");
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(0.000001f);
        Vector512<float> c0 = Vector512.Create(0.1f), c1 = Vector512.Create(0.2f), c2 = Vector512.Create(0.3f), c3 = Vector512.Create(0.4f),
            c4 = Vector512.Create(0.5f), c5 = Vector512.Create(0.6f), c6 = Vector512.Create(0.7f), c7 = Vector512.Create(0.8f),
            c8 = Vector512.Create(0.9f), c9 = Vector512.Create(1.1f), c10 = Vector512.Create(1.2f), c11 = Vector512.Create(1.3f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, a, b); c1 = Avx512F.FusedMultiplyAdd(c1, a, b);
            c2 = Avx512F.FusedMultiplyAdd(c2, a, b); c3 = Avx512F.FusedMultiplyAdd(c3, a, b);
            c4 = Avx512F.FusedMultiplyAdd(c4, a, b); c5 = Avx512F.FusedMultiplyAdd(c5, a, b);
            c6 = Avx512F.FusedMultiplyAdd(c6, a, b); c7 = Avx512F.FusedMultiplyAdd(c7, a, b);
            c8 = Avx512F.FusedMultiplyAdd(c8, a, b); c9 = Avx512F.FusedMultiplyAdd(c9, a, b);
            c10 = Avx512F.FusedMultiplyAdd(c10, a, b); c11 = Avx512F.FusedMultiplyAdd(c11, a, b);
        }
        return (long)Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Fma256(long iterations)
    {
        if (!Fma.IsSupported) throw new PlatformNotSupportedException("FMA3");
        var a = Vector256.Create(0.999999f);
        var b = Vector256.Create(0.000001f);
        Vector256<float> c0 = Vector256.Create(0.1f), c1 = Vector256.Create(0.2f), c2 = Vector256.Create(0.3f), c3 = Vector256.Create(0.4f),
            c4 = Vector256.Create(0.5f), c5 = Vector256.Create(0.6f), c6 = Vector256.Create(0.7f), c7 = Vector256.Create(0.8f),
            c8 = Vector256.Create(0.9f), c9 = Vector256.Create(1.1f), c10 = Vector256.Create(1.2f), c11 = Vector256.Create(1.3f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b);
            c2 = Fma.MultiplyAdd(c2, a, b); c3 = Fma.MultiplyAdd(c3, a, b);
            c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b);
            c8 = Fma.MultiplyAdd(c8, a, b); c9 = Fma.MultiplyAdd(c9, a, b);
            c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        return (long)Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    // The pair QuantDot uses per 4 products: u8·s8 → pairs of int16 (vpmaddubsw), then ·1 → int32 (vpmaddwd).
    // Each chain feeds its int32 result back in as the next bytes, so nothing is loop-invariant.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Int8Madd512(long iterations)
    {
        if (!Avx512BW.IsSupported) throw new PlatformNotSupportedException("AVX-512BW");
        var s = Vector512.Create((sbyte)3);
        var ones = Vector512.Create((short)1);
        Vector512<int> c0 = Vector512.Create(1), c1 = Vector512.Create(2), c2 = Vector512.Create(3), c3 = Vector512.Create(4),
            c4 = Vector512.Create(5), c5 = Vector512.Create(6), c6 = Vector512.Create(7), c7 = Vector512.Create(8),
            c8 = Vector512.Create(9), c9 = Vector512.Create(10), c10 = Vector512.Create(11), c11 = Vector512.Create(12);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c0.AsByte(), s), ones);
            c1 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c1.AsByte(), s), ones);
            c2 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c2.AsByte(), s), ones);
            c3 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c3.AsByte(), s), ones);
            c4 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c4.AsByte(), s), ones);
            c5 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c5.AsByte(), s), ones);
            c6 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c6.AsByte(), s), ones);
            c7 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c7.AsByte(), s), ones);
            c8 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c8.AsByte(), s), ones);
            c9 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c9.AsByte(), s), ones);
            c10 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c10.AsByte(), s), ones);
            c11 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(c11.AsByte(), s), ones);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Int8Madd256(long iterations)
    {
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException("AVX2");
        var s = Vector256.Create((sbyte)3);
        var ones = Vector256.Create((short)1);
        Vector256<int> c0 = Vector256.Create(1), c1 = Vector256.Create(2), c2 = Vector256.Create(3), c3 = Vector256.Create(4),
            c4 = Vector256.Create(5), c5 = Vector256.Create(6), c6 = Vector256.Create(7), c7 = Vector256.Create(8),
            c8 = Vector256.Create(9), c9 = Vector256.Create(10), c10 = Vector256.Create(11), c11 = Vector256.Create(12);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c0.AsByte(), s), ones);
            c1 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c1.AsByte(), s), ones);
            c2 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c2.AsByte(), s), ones);
            c3 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c3.AsByte(), s), ones);
            c4 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c4.AsByte(), s), ones);
            c5 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c5.AsByte(), s), ones);
            c6 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c6.AsByte(), s), ones);
            c7 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c7.AsByte(), s), ones);
            c8 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c8.AsByte(), s), ones);
            c9 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c9.AsByte(), s), ones);
            c10 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c10.AsByte(), s), ones);
            c11 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(c11.AsByte(), s), ones);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    // vpdpbusd: 4 u8·s8 products summed into each int32 accumulator in one instruction.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static long Int8Vnni256(long iterations)
    {
        if (!AvxVnni.IsSupported) throw new PlatformNotSupportedException("AVX-VNNI");
        var u = Vector256.Create((byte)5);
        var s = Vector256.Create((sbyte)3);
        Vector256<int> c0 = Vector256.Create(1), c1 = Vector256.Create(2), c2 = Vector256.Create(3), c3 = Vector256.Create(4),
            c4 = Vector256.Create(5), c5 = Vector256.Create(6), c6 = Vector256.Create(7), c7 = Vector256.Create(8),
            c8 = Vector256.Create(9), c9 = Vector256.Create(10), c10 = Vector256.Create(11), c11 = Vector256.Create(12);
        for (long i = 0; i < iterations; i++)
        {
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, u, s); c1 = AvxVnni.MultiplyWideningAndAdd(c1, u, s);
            c2 = AvxVnni.MultiplyWideningAndAdd(c2, u, s); c3 = AvxVnni.MultiplyWideningAndAdd(c3, u, s);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, u, s); c5 = AvxVnni.MultiplyWideningAndAdd(c5, u, s);
            c6 = AvxVnni.MultiplyWideningAndAdd(c6, u, s); c7 = AvxVnni.MultiplyWideningAndAdd(c7, u, s);
            c8 = AvxVnni.MultiplyWideningAndAdd(c8, u, s); c9 = AvxVnni.MultiplyWideningAndAdd(c9, u, s);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, u, s); c11 = AvxVnni.MultiplyWideningAndAdd(c11, u, s);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
