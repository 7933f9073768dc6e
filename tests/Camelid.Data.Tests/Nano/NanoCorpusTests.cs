using System.Text.RegularExpressions;
using Camelid.Data.Nano;
using Camelid.Tests;

namespace Camelid.Data.Tests.Nano;

public partial class NanoCorpusTests
{
    [GeneratedRegex(@"(?<=[.!?][""]?)\s+(?=[A-Z""])")] private static partial Regex SentenceEnd();
    [GeneratedRegex(@"[A-Za-z']+")] private static partial Regex Word();

    static readonly List<string> Documents = [.. NanoCorpus.Prose(1, 2000)];

    [Fact]
    public void SameSeed_SameDocuments_DifferentSeed_DifferentDocuments()
    {
        Assert.Equal(Documents, NanoCorpus.Prose(1, 2000));
        var other = NanoCorpus.Prose(2, 2000).ToList();
        Assert.True(Documents.Zip(other).Count(p => p.First == p.Second) < 20);
        // Document i does not depend on how many were asked for.
        Assert.Equal(Documents.Take(10), NanoCorpus.Prose(1, 10));
    }

    [Fact]
    public void Documents_AreOneOrTwoParagraphs_WithoutBlankLines_InPlainAscii()
    {
        foreach (string document in Documents)
        {
            var paragraphs = document.Split('\n');
            Assert.InRange(paragraphs.Length, 1, 2);
            Assert.All(paragraphs, p => Assert.False(string.IsNullOrWhiteSpace(p), document));
            Assert.All(paragraphs, p => Assert.Matches(@"^[A-Z""].*[.!?""]$", p));
            Assert.True(document.All(c => c is >= ' ' and <= '~' or '\n'), document);
            Assert.DoesNotContain("  ", document);
            Assert.DoesNotMatch(@"\b(a [aeiou]|an [bcdfghjklmnpqrstvwxyz])\w*", document); // articles agree with the noun
        }
    }

    /// <summary>
    /// Enough variety that a small model must learn to compose, not recite. In 2,000 documents (about 25,000
    /// sentences): most sentences are unique (TinyStories-like text repeats short stock sentences such as "They
    /// played all day.", so not all); no sentence is more than 1% of all; the vocabulary is several hundred words;
    /// every kind of document appears; and documents are never repeated.
    /// </summary>
    [Fact]
    public void Prose_HasEnoughVariety()
    {
        var sentences = Documents.SelectMany(d => SentenceEnd().Split(d.Replace('\n', ' '))).ToList();
        var counts = sentences.GroupBy(s => s).Select(g => g.Count()).ToList();
        var words = Documents.SelectMany(d => Word().Matches(d).Select(m => m.Value.ToLowerInvariant())).ToList();
        double distinctShare = (double)counts.Count / sentences.Count;
        Assert.True(sentences.Count > 15_000, $"{sentences.Count} sentences");
        Assert.True(distinctShare > 0.5, $"only {distinctShare:P1} of {sentences.Count} sentences are distinct");
        Assert.True(counts.Max() < sentences.Count / 100, $"one sentence appears {counts.Max()} times in {sentences.Count}");
        Assert.InRange(words.Distinct().Count(), 600, 3000);
        Assert.Equal(Documents.Count, Documents.Distinct().Count());
        Assert.Contains(Documents, d => d.StartsWith("Once upon a time"));
        Assert.Contains(Documents, d => d.Contains("were best friends"));
        Assert.Contains(Documents, d => d.Contains("looked out of the window"));
        Assert.Contains(Documents, d => d.Contains("wakes up early") || d.Contains("gets up when the sun"));
        Assert.Contains(Documents, d => d.Contains("It has "));
        Assert.Contains(Documents, d => d.Contains('"'));                                  // dialogue
        Assert.Contains(Documents, d => d.Contains("because") || d.Contains("Because"));   // cause and effect
    }

    [Fact]
    public void ProseFile_IsReadBackAsTheSameDocuments_AtBlankLines()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "prose.txt");
            var (count, bytes) = NanoDataFiles.WriteProse(path, Documents.Take(50));
            Assert.Equal(50, count);
            Assert.Equal(new FileInfo(path).Length, bytes);
            // The rule `camelid pretrain` applies: a document ends at a blank line; its lines are joined with "\n".
            var readBack = File.ReadAllText(path).Split("\n\n").Select(d => d.TrimEnd('\n')).ToList();
            Assert.Equal(Documents.Take(50), readBack);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
