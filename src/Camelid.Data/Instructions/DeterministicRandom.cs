namespace Camelid.Data.Instructions;

/// <summary>
/// A small random stream that is a pure function of (seed, stream, index): request 17's examples are the same
/// whether the run was interrupted or not, on any machine and .NET version. SplitMix64 (Steele, Lea and Flood,
/// "Fast splittable pseudorandom number generators", 2014) seeded by mixing the three numbers.
/// </summary>
public sealed class DeterministicRandom
{
    ulong _state;

    public DeterministicRandom(long seed, int stream, long index) =>
        _state = Mix((ulong)seed ^ Mix((ulong)stream * 0x9E3779B97F4A7C15UL ^ Mix((ulong)index + 0x632BE59BD9B4E019UL)));

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, n), by rejection so that no value is favoured.</summary>
    public int Next(int n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n));
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong x;
        do x = NextUInt64();
        while (x >= limit);
        return (int)(x % (ulong)n);
    }

    /// <summary>A non-negative 31-bit number (for the API's <c>seed</c>).</summary>
    public int NextSeed() => (int)(NextUInt64() >> 33);

    /// <summary>
    /// <paramref name="k"/> distinct items in random order, like Python's <c>random.sample</c>: the first k steps of
    /// a Fisher–Yates shuffle, with the swapped positions kept in a dictionary so a big pool is not copied.
    /// </summary>
    public List<T> Sample<T>(IReadOnlyList<T> items, int k) => [.. SampleIndices(items.Count, k).Select(i => items[i])];

    /// <summary><paramref name="k"/> distinct indices below <paramref name="n"/>, in random order.</summary>
    public List<int> SampleIndices(int n, int k)
    {
        k = Math.Min(k, n);
        var swapped = new Dictionary<int, int>();
        var picked = new List<int>(k);
        for (int i = 0; i < k; i++)
        {
            int j = i + Next(n - i);
            picked.Add(swapped.GetValueOrDefault(j, j));
            swapped[j] = swapped.GetValueOrDefault(i, i);
        }
        return picked;
    }

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
