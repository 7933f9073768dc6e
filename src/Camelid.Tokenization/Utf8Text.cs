using System.Text;

namespace Camelid.Tokenization;

/// <summary>
/// UTF-8 to string the way sentencepiece's decoder does it: every byte that does not start a complete,
/// well-formed sequence (no overlongs, no surrogates, nothing above U+10FFFF) becomes one U+FFFD, and decoding
/// resumes at the next byte. Decoding is prefix-stable, which lets <see cref="StreamingDecoder"/> emit the same
/// text piece by piece as a one-shot decode.
/// </summary>
static class Utf8Text
{
    const char Replacement = '\uFFFD';

    /// <summary>Length of the well-formed sequence at the start of <paramref name="s"/>; 0 if the first byte is
    /// invalid; -1 if <paramref name="s"/> is a proper prefix of a well-formed sequence (more bytes may complete it).</summary>
    public static int SequenceLength(ReadOnlySpan<byte> s)
    {
        byte b0 = s[0];
        if (b0 < 0x80)
            return 1;
        int need;
        byte lo = 0x80, hi = 0xBF; // allowed range of the second byte (RFC 3629, table 3-7 of the Unicode standard)
        if (b0 is >= 0xC2 and <= 0xDF)
            need = 2;
        else if (b0 is >= 0xE0 and <= 0xEF)
        {
            need = 3;
            if (b0 == 0xE0) lo = 0xA0;      // overlong
            else if (b0 == 0xED) hi = 0x9F; // surrogates
        }
        else if (b0 is >= 0xF0 and <= 0xF4)
        {
            need = 4;
            if (b0 == 0xF0) lo = 0x90;      // overlong
            else if (b0 == 0xF4) hi = 0x8F; // above U+10FFFF
        }
        else
            return 0;
        for (int k = 1; k < need; k++)
        {
            if (k >= s.Length)
                return -1;
            byte b = s[k];
            if (k == 1 ? b < lo || b > hi : b < 0x80 || b > 0xBF)
                return 0;
        }
        return need;
    }

    /// <summary>Decodes all of <paramref name="bytes"/>; an incomplete sequence at the end becomes U+FFFD per byte.</summary>
    public static void Append(StringBuilder text, ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            int runStart = i;
            int len;
            while (i < bytes.Length && (len = SequenceLength(bytes[i..])) > 0)
                i += len;
            if (i > runStart)
                text.Append(Encoding.UTF8.GetString(bytes[runStart..i]));
            if (i < bytes.Length)
            {
                text.Append(Replacement);
                i++;
            }
        }
    }

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        Append(text, bytes);
        return text.ToString();
    }

    /// <summary>How many leading bytes can be decoded now without changing the result when more bytes arrive:
    /// everything except a trailing proper prefix of a well-formed sequence.</summary>
    public static int StableLength(ReadOnlySpan<byte> bytes)
    {
        // A sequence is at most 4 bytes long, so only the last 3 bytes can be waiting for more.
        for (int start = Math.Max(0, bytes.Length - 3); start < bytes.Length; start++)
            if (bytes[start] >= 0xC0 && SequenceLength(bytes[start..]) == -1)
                return start;
        return bytes.Length;
    }
}
