using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Camelid.Tensors.Kernels;

/// <summary>
/// Dot products of an fp16 or bf16 weight row, read in place, with fp32 activations: the decode-time kernel
/// for half-precision models. The weights are widened in registers, never written out.
/// Scalar fallback: widen through <see cref="HalfPrecision"/> and sum in order.
/// </summary>
internal static unsafe class HalfDot
{
    /// <summary>Software prefetch distance (2 KiB ahead): a single core's hardware prefetchers stop at page
    /// boundaries and keep too few lines in flight to reach the memory bandwidth on their own.</summary>
    const int PrefetchHalves = 1024;

    public static float DotF16(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && n >= 32)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                Sse.Prefetch0(w + i + PrefetchHalves);
                acc0 = Avx512F.FusedMultiplyAdd(Widen(Vector256.Load((short*)w + i)), Vector512.Load(x + i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Widen(Vector256.Load((short*)w + i + 16)), Vector512.Load(x + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        for (; i < n; i++)
            sum += HalfPrecision.HalfBitsToSingle(w[i]) * x[i];
        return sum;
    }

    /// <summary>
    /// 16 finite fp16 values to fp32 without ever making an fp32 denormal (which would cost a microcode
    /// assist per instruction on many CPUs, and .NET cannot set denormals-are-zero): exponent and mantissa
    /// are moved into fp32 position and rebiased in integer arithmetic; fp16 subnormals (exponent 0) are
    /// renormalised exactly as (2^-14 · 1.m) − 2^-14 = m · 2^-24, both operands normal.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Widen(Vector256<short> halves)
    {
        var bits = Avx512F.ConvertToVector512Int32(halves);                  // sign-extended
        var magnitude = Vector512.ShiftLeft(bits, 13) & Vector512.Create(0x0FFFE000);
        var normal = magnitude + Vector512.Create(112 << 23);
        var subnormal = (magnitude + Vector512.Create(113 << 23)).AsSingle() - Vector512.Create(113 << 23).AsSingle();
        var isSubnormal = Vector512.Equals(magnitude & Vector512.Create(0x0F800000), Vector512<int>.Zero);
        var value = Vector512.ConditionalSelect(isSubnormal.AsSingle(), subnormal, normal.AsSingle());
        return (value.AsInt32() | (bits & Vector512.Create(unchecked((int)0x80000000)))).AsSingle();
    }

    public static float DotBf16(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && n >= 32)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                var w0 = Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load(w + i)), 16).AsSingle();
                var w1 = Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load(w + i + 16)), 16).AsSingle();
                acc0 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(x + i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(x + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        for (; i < n; i++)
            sum += HalfPrecision.Bf16ToSingle(w[i]) * x[i];
        return sum;
    }
}
