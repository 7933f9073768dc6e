using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace Camelid.Model.Conversion;

/// <summary>
/// Random initial weights for synthetic models, as a pure function of (seed, tensor name, element index): any
/// slice of any tensor can be generated on any thread in any order and the file comes out the same.
/// Element i of a tensor is splitmix64's output function (Steele, Lea and Flood 2014) applied to
/// key + (i + 1)·γ, i.e. the (i+1)-th output of a splitmix64 stream seeded with the tensor's key; its four
/// 16-bit quarters are summed (Irwin–Hall, n = 4) and scaled to mean 0 and the requested standard deviation.
/// That is close to a normal distribution (bounded at ±3.46σ), which is all an initialisation needs.
/// </summary>
public static class RandomWeights
{
    const ulong Gamma = 0x9E3779B97F4A7C15UL;
    const int QuarterSumMean = 2 * 65535; // four quarters uniform on 0..65535

    /// <summary>Standard deviation of the sum of four independent uniform 16-bit integers.</summary>
    static readonly double QuarterSumStd = Math.Sqrt((65536.0 * 65536.0 - 1) / 3);

    /// <summary>The stream key of one tensor: the seed mixed with an FNV-1a hash of the tensor's name.</summary>
    public static ulong TensorKey(ulong seed, string tensorName)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(tensorName))
            hash = (hash ^ b) * 0x100000001B3UL;
        return Mix(seed ^ Mix(hash));
    }

    /// <summary>Writes elements [firstIndex, firstIndex + destination.Length) of the tensor with <paramref name="key"/>.</summary>
    public static void Fill(ulong key, long firstIndex, Span<float> destination, float std)
    {
        float scale = (float)(std / QuarterSumStd);
        ulong state = key + (ulong)firstIndex * Gamma;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && destination.Length >= 8)
        {
            var lanes = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8) * Gamma;
            var step = Vector512.Create(unchecked(8 * Gamma));
            var states = Vector512.Create(state) + lanes;
            var mask = Vector512.Create(0xFFFFUL);
            for (; i + 8 <= destination.Length; i += 8)
            {
                var z = states;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBUL;
                z ^= z >>> 31;
                var sum = (z & mask) + ((z >>> 16) & mask) + ((z >>> 32) & mask) + (z >>> 48);
                var centred = sum.AsInt64() - Vector512.Create((long)QuarterSumMean);
                var values = Vector512.Narrow(Vector512.ConvertToDouble(centred), Vector512<double>.Zero);
                (values * scale).GetLower().CopyTo(destination.Slice(i, 8));
                states += step;
            }
            state += (ulong)i * Gamma;
        }
        for (; i < destination.Length; i++)
        {
            state += Gamma;
            ulong z = Mix(state);
            int sum = (int)(z & 0xFFFF) + (int)((z >> 16) & 0xFFFF) + (int)((z >> 32) & 0xFFFF) + (int)(z >> 48);
            destination[i] = (sum - QuarterSumMean) * scale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
