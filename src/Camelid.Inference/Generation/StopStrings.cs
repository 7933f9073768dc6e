namespace Camelid.Inference.Generation;

/// <summary>
/// Finds stop strings in streamed text. Text that might be the start of a stop string is held back
/// until it is known not to be, so a caller never sees any part of a stop string.
/// </summary>
public sealed class StopStrings(IReadOnlyList<string> stops)
{
    readonly string[] _stops = stops.Where(s => s.Length > 0).Distinct().ToArray();
    string _pending = "";

    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what is safe to emit now. After a stop string, returns the text before it and sets Stopped.</summary>
    public string Push(string text)
    {
        if (Stopped)
            return "";
        _pending += text;
        int at = -1;
        foreach (var stop in _stops)
        {
            int i = _pending.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at))
                at = i;
        }
        if (at >= 0)
        {
            Stopped = true;
            string before = _pending[..at];
            _pending = "";
            return before;
        }
        int hold = LongestSuffixThatStartsAStop();
        string emit = _pending[..^hold];
        _pending = _pending[^hold..];
        return emit;
    }

    /// <summary>Whatever was held back, at the end of generation.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    int LongestSuffixThatStartsAStop()
    {
        int best = 0;
        foreach (var stop in _stops)
            for (int len = Math.Min(stop.Length - 1, _pending.Length); len > best; len--)
                if (_pending.AsSpan(_pending.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
        return best;
    }
}
