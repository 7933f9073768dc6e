namespace Camelid.Data.Instructions;

/// <summary>
/// ROUGE-L as google-research's rouge_score computes it with its default tokenizer (no stemmer), which is what
/// Self-Instruct and Alpaca used: lowercase the text, turn every run of characters other than a–z and 0–9 into a
/// space, split; then the F-measure of the longest common subsequence of the two token lists.
/// </summary>
public static class RougeL
{
    /// <summary>rouge_score's tokens of <paramref name="text"/>, as strings.</summary>
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        ForEachToken(text, span => tokens.Add(span.ToString()));
        return tokens;
    }

    /// <summary>
    /// Calls <paramref name="onToken"/> with each token. Python lowercases the whole string first; lowercasing
    /// character by character gives the same tokens because only a–z and 0–9 survive either way.
    /// </summary>
    public static void ForEachToken(string text, TokenAction onToken)
    {
        Span<char> token = text.Length <= 512 ? stackalloc char[text.Length] : new char[text.Length];
        int length = 0;
        foreach (char raw in text)
        {
            char c = raw < 128 ? (char)(raw | ((uint)(raw - 'A') <= 'Z' - 'A' ? 0x20 : 0)) : char.ToLowerInvariant(raw);
            if ((uint)(c - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9)
                token[length++] = c;
            else if (length > 0)
            {
                onToken(token[..length]);
                length = 0;
            }
        }
        if (length > 0)
            onToken(token[..length]);
    }

    public delegate void TokenAction(ReadOnlySpan<char> token);

    /// <summary>
    /// rouge_score's <c>_score_lcs(target, prediction).fmeasure</c>, computed the same way (precision and recall
    /// first) so scores on either side of a threshold agree with the Python to the last bit. Empty → 0.
    /// </summary>
    public static double FMeasure(int lcs, int targetLength, int predictionLength)
    {
        if (targetLength == 0 || predictionLength == 0)
            return 0;
        double precision = (double)lcs / predictionLength;
        double recall = (double)lcs / targetLength;
        return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    }

    /// <summary>The best F-measure two texts of these lengths could reach (LCS ≤ the shorter length).</summary>
    public static double UpperBound(int m, int n) => m == 0 || n == 0 ? 0 : 2.0 * Math.Min(m, n) / (m + n);

    /// <summary>ROUGE-L F-measure of two texts (convenience; the index is the fast path).</summary>
    public static double Score(string target, string prediction)
    {
        var vocabulary = new TokenVocabulary();
        int[] a = vocabulary.Tokenize(target), b = vocabulary.Tokenize(prediction);
        return FMeasure(BitParallelLcs.Length(a, b), a.Length, b.Length);
    }
}
