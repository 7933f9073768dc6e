using System.Text;

namespace Camelid.Data.Conversations;

/// <summary>Counts from a clean, split or convert run: records read, written, and dropped per reason.</summary>
public sealed class DataReport
{
    readonly SortedDictionary<string, int> _dropped = new(StringComparer.Ordinal);
    readonly SortedDictionary<string, int> _notes = new(StringComparer.Ordinal);

    public int Read { get; set; }
    public int Written { get; set; }
    public int DroppedTotal => _dropped.Values.Sum();
    public IReadOnlyDictionary<string, int> Dropped => _dropped;

    /// <summary>Changes that did not drop anything ("leading gpt turn removed", "answer truncated", …).</summary>
    public IReadOnlyDictionary<string, int> Notes => _notes;

    public void Drop(string reason, int count = 1) => _dropped[reason] = _dropped.GetValueOrDefault(reason) + count;

    public void Note(string what, int count = 1) => _notes[what] = _notes.GetValueOrDefault(what) + count;

    /// <summary>A few lines for the terminal: totals, then one line per drop reason and note.</summary>
    public string Format(string readNoun, string writtenNoun)
    {
        var text = new StringBuilder($"read {Read} {readNoun}, wrote {Written} {writtenNoun}, dropped {DroppedTotal}\n");
        foreach (var (reason, count) in _dropped.OrderByDescending(p => p.Value))
            text.Append($"  dropped {count,8}  {reason}\n");
        foreach (var (note, count) in _notes.OrderByDescending(p => p.Value))
            text.Append($"  {note}: {count}\n");
        return text.ToString();
    }
}
