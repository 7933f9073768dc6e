using System.Globalization;

namespace Camelid.Formats;

/// <summary>
/// Key/value metadata of a model file (GGUF keys, or keys a reader derives from config.json). Values are
/// the CLR type of the stored value (uint, float, string, string[], float[], ...); the accessors convert
/// between numeric widths and fail with a message that names the key and the file.
/// </summary>
public sealed class Metadata(IReadOnlyDictionary<string, object> entries, string source)
{
    public IReadOnlyDictionary<string, object> Entries { get; } = entries;
    public string Source { get; } = source;

    public bool Contains(string key) => Entries.ContainsKey(key);
    public object? Get(string key) => Entries.GetValueOrDefault(key);

    public string GetString(string key) => Get(key) switch
    {
        string s => s,
        null => throw Missing(key),
        var v => throw WrongType(key, v, "a string"),
    };

    public string? GetStringOrNull(string key) => Get(key) as string;

    public long GetInt64(string key) => TryGetInt64(key) ?? throw Missing(key);

    public long? TryGetInt64(string key) => Get(key) switch
    {
        null => null,
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v => v <= long.MaxValue ? (long)v : throw WrongType(key, v, "an integer below 2^63"),
        bool v => v ? 1 : 0,
        var v => throw WrongType(key, v, "an integer"),
    };

    public int GetInt32(string key) => checked((int)GetInt64(key));
    public int? TryGetInt32(string key) => TryGetInt64(key) is long v ? checked((int)v) : null;

    public double? TryGetDouble(string key) => Get(key) switch
    {
        null => null,
        float v => v, double v => v,
        byte or sbyte or ushort or short or uint or int or long or ulong => Convert.ToDouble(Get(key), CultureInfo.InvariantCulture),
        var v => throw WrongType(key, v, "a number"),
    };

    public double GetDouble(string key) => TryGetDouble(key) ?? throw Missing(key);

    public bool? TryGetBool(string key) => Get(key) switch
    {
        null => null,
        bool b => b,
        var v => throw WrongType(key, v, "a boolean"),
    };

    public string[]? TryGetStringArray(string key) => Get(key) switch
    {
        null => null,
        string[] a => a,
        var v => throw WrongType(key, v, "an array of strings"),
    };

    public float[]? TryGetFloatArray(string key) => Get(key) switch
    {
        null => null,
        float[] a => a,
        double[] a => a.Select(x => (float)x).ToArray(),
        var v => throw WrongType(key, v, "an array of floats"),
    };

    public int[]? TryGetInt32Array(string key) => Get(key) switch
    {
        null => null,
        int[] a => a,
        uint[] a => a.Select(x => checked((int)x)).ToArray(),
        long[] a => a.Select(x => checked((int)x)).ToArray(),
        byte[] a => a.Select(x => (int)x).ToArray(),
        sbyte[] a => a.Select(x => (int)x).ToArray(),
        var v => throw WrongType(key, v, "an array of integers"),
    };

    ModelFormatException Missing(string key) => new($"{Source}: required metadata '{key}' is missing");

    ModelFormatException WrongType(string key, object value, string expected) =>
        new($"{Source}: metadata '{key}' should be {expected} but is {value.GetType().Name}");
}
