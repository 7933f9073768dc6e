using System.Numerics;
using System.Runtime.CompilerServices;

namespace Camelid.Data.Instructions;

/// <summary>
/// Length of the longest common subsequence of two token lists, 64 positions of the first list per machine word
/// (Allison–Dix 1986, in Hyyrö's form, "Bit-parallel LCS-length computation revisited", 2004):
/// with M[t] the bit mask of the positions where the pattern holds token t and V all ones,
/// for each token t of the other list: U = V &amp; M[t]; V = (V + U) | (V − U);
/// then LCS = the number of zero bits among the pattern's m bits. O(⌈m/64⌉·n) instead of the O(m·n) table.
/// Tokens of the other list that do not occur in the pattern leave V unchanged and are skipped.
/// </summary>
public static class BitParallelLcs
{
    /// <summary>
    /// The LCS length for a pattern of <paramref name="m"/> tokens whose masks are given: for each token id,
    /// <paramref name="slotOfToken"/> holds its row in <paramref name="masks"/> or −1 when it is not in the pattern
    /// (ids outside the array are not in the pattern either). <paramref name="masks"/> is (slots, words) row-major;
    /// <paramref name="v"/> is scratch of <paramref name="words"/> entries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Length(ReadOnlySpan<int> other, ReadOnlySpan<int> slotOfToken, ReadOnlySpan<ulong> masks, int m, int words, Span<ulong> v) =>
        words == 1 ? LengthOneWord(other, slotOfToken, masks, m) : LengthManyWords(other, slotOfToken, masks, m, words, v);

    static int LengthOneWord(ReadOnlySpan<int> other, ReadOnlySpan<int> slotOfToken, ReadOnlySpan<ulong> masks, int m)
    {
        ulong v = ulong.MaxValue;
        foreach (int token in other)
        {
            if ((uint)token >= (uint)slotOfToken.Length)
                continue;
            int slot = slotOfToken[token];
            if (slot < 0)
                continue;
            ulong u = v & masks[slot];
            v = (v + u) | (v - u);
        }
        ulong inPattern = m == 64 ? ulong.MaxValue : (1UL << m) - 1;
        return m - BitOperations.PopCount(v & inPattern);
    }

    static int LengthManyWords(ReadOnlySpan<int> other, ReadOnlySpan<int> slotOfToken, ReadOnlySpan<ulong> masks, int m, int words, Span<ulong> v)
    {
        v = v[..words];
        v.Fill(ulong.MaxValue);
        foreach (int token in other)
        {
            if ((uint)token >= (uint)slotOfToken.Length)
                continue;
            int slot = slotOfToken[token];
            if (slot < 0)
                continue;
            var mask = masks.Slice(slot * words, words);
            ulong carry = 0;
            for (int w = 0; w < words; w++)
            {
                ulong x = v[w], u = x & mask[w];
                ulong sum = x + u;
                ulong carryOut = sum < x ? 1UL : 0;
                sum += carry;
                carryOut |= sum < carry ? 1UL : 0;
                carry = carryOut;
                v[w] = sum | (x & ~u); // x − u = x & ~u because u ⊆ x
            }
        }
        int ones = 0;
        for (int w = 0; w < words; w++)
        {
            int bitsHere = Math.Min(64, m - w * 64);
            ulong inPattern = bitsHere == 64 ? ulong.MaxValue : (1UL << bitsHere) - 1;
            ones += BitOperations.PopCount(v[w] & inPattern);
        }
        return m - ones;
    }

    /// <summary>Words of 64 bits needed for a pattern of <paramref name="m"/> tokens (at least 1).</summary>
    public static int WordsFor(int m) => Math.Max(1, (m + 63) / 64);

    /// <summary>
    /// Writes the match masks of <paramref name="pattern"/>: assigns each distinct token a slot in
    /// <paramref name="slotOfToken"/> (which must hold −1 for all of them) and returns the (slots, words) masks.
    /// </summary>
    public static ulong[] BuildMasks(ReadOnlySpan<int> pattern, int[] slotOfToken, out int words)
    {
        words = WordsFor(pattern.Length);
        int slots = 0;
        foreach (int token in pattern)
            if (slotOfToken[token] < 0)
                slotOfToken[token] = slots++;
        var masks = new ulong[slots * words];
        for (int i = 0; i < pattern.Length; i++)
            masks[slotOfToken[pattern[i]] * words + i / 64] |= 1UL << (i % 64);
        return masks;
    }

    /// <summary>Undoes <see cref="BuildMasks"/>'s writes to <paramref name="slotOfToken"/>.</summary>
    public static void ClearSlots(ReadOnlySpan<int> pattern, int[] slotOfToken)
    {
        foreach (int token in pattern)
            slotOfToken[token] = -1;
    }

    /// <summary>The LCS length of two lists of non-negative token ids (builds its own masks; for tests and one-off use).</summary>
    public static int Length(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        if (a.Length == 0 || b.Length == 0)
            return 0;
        int maxId = 0;
        foreach (int t in a)
            maxId = Math.Max(maxId, t);
        var slotOfToken = new int[maxId + 1];
        Array.Fill(slotOfToken, -1);
        var masks = BuildMasks(a, slotOfToken, out int words);
        return Length(b, slotOfToken, masks, a.Length, words, new ulong[words]);
    }
}
