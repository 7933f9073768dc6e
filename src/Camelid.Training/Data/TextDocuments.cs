using System.Text;

namespace Camelid.Training.Data;

/// <summary>Where one pretraining document ends in a text file.</summary>
public enum TextDocumentSplit
{
    /// <summary>
    /// At blank lines (lines of only whitespace): paragraphs-per-document corpora, and a file that holds one text per
    /// paragraph. Lines of a document are joined with "\n"; the end of a file always ends a document.
    /// </summary>
    BlankLines,

    /// <summary>Each file is one document, read as it is (for a folder of whole texts with blank lines inside).</summary>
    File,
}

/// <summary>Reads pretraining documents from a text file or a folder of them, one document at a time.</summary>
internal static class TextDocuments
{
    /// <summary>The file itself, or every .txt file under the folder, in ordinal path order (the same on every machine).</summary>
    public static IReadOnlyList<string> Files(string path)
    {
        if (!Directory.Exists(path))
            return System.IO.File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: training data not found", path);
        var files = Directory.GetFiles(path, "*.txt", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0)
            throw new FileNotFoundException($"{path}: the folder has no .txt files", path);
        return files;
    }

    public static IEnumerable<string> Read(string file, TextDocumentSplit split)
    {
        if (split == TextDocumentSplit.File)
        {
            string whole = System.IO.File.ReadAllText(file);
            if (!string.IsNullOrWhiteSpace(whole))
                yield return whole;
            yield break;
        }
        using var reader = new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var document = new StringBuilder();
        for (string? line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (document.Length > 0)
                {
                    yield return document.ToString();
                    document.Clear();
                }
                continue;
            }
            if (document.Length > 0)
                document.Append('\n');
            document.Append(line);
        }
        if (document.Length > 0)
            yield return document.ToString();
    }
}

/// <summary>
/// Cuts a stream of document tokens into sequences of <c>maxLength + 1</c> tokens (maxLength positions, each with its
/// next token as target). Consecutive sequences share one token, the last of one being the first of the next, so that
/// every token of the stream after the first is a target exactly once. The first token of a sequence is never a
/// target (it has nothing before it); every other one is.
/// </summary>
internal sealed class TokenChunker(int maxLength)
{
    readonly List<int> _pending = [];

    /// <summary>Appends a document's tokens; returns the sequences completed by them.</summary>
    public List<(int[] Tokens, bool[] Trained)> Add(ReadOnlySpan<int> tokens)
    {
        var completed = new List<(int[], bool[])>();
        foreach (int token in tokens)
        {
            _pending.Add(token);
            if (_pending.Count == maxLength + 1)
            {
                completed.Add(Sequence());
                _pending.RemoveRange(0, maxLength);
            }
        }
        return completed;
    }

    /// <summary>The last, shorter sequence, if at least one target is left in it.</summary>
    public (int[] Tokens, bool[] Trained)? Flush()
    {
        if (_pending.Count < 2)
        {
            _pending.Clear();
            return null;
        }
        var last = Sequence();
        _pending.Clear();
        return last;
    }

    (int[], bool[]) Sequence()
    {
        var trained = new bool[_pending.Count];
        trained.AsSpan(1).Fill(true);
        return ([.. _pending], trained);
    }
}
