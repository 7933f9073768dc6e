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
    public static float DotF16(ushort* w, float* x, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && n >= 32)
        {
            // fp16 → fp32 for finite values: sign-extend to 32 bits and shift left by 13 puts sign, exponent and
            // mantissa in fp32 position (the mask clears the sign copies left in the top exponent bits);
            // scaling by 2^112 rebiases the exponent, and makes fp16 subnormals exact fp32 values too.
            var keep = Vector512.Create(0x8FFFE000u).AsInt32();
            var rebias = Vector512.Create(5.192296858534828e33f);
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                var w0 = Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w + i)), 13) & keep;
                var w1 = Vector512.ShiftLeft(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w + i + 16)), 13) & keep;
                acc0 = Avx512F.FusedMultiplyAdd(w0.AsSingle() * rebias, Vector512.Load(x + i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(w1.AsSingle() * rebias, Vector512.Load(x + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        for (; i < n; i++)
            sum += HalfPrecision.HalfBitsToSingle(w[i]) * x[i];
        return sum;
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
