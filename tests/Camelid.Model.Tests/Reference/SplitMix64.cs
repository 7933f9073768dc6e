namespace Camelid.Model.Tests.Reference;

/// <summary>
/// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014): the
/// generator that tools/make_logits_fixtures.py uses too, so both sides derive identical weights from a seed.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    ulong _state = seed;

    public ulong Next()
    {
        _state += 0x9E3779B97F4A7C15UL;
        ulong z = _state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [-1, 1) with 24 random bits, exactly representable as a float.</summary>
    public float NextSigned() => (float)((Next() >> 40) / (double)(1 << 24) * 2.0 - 1.0);
}
