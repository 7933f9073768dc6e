using System.Text.Json;

namespace Camelid.Server.OpenAi;

/// <summary>
/// Reads the fields of a JSON request body with OpenAI-style validation: every wrong type or value becomes
/// a 400 naming the field (e.g. "messages[2].content"). Unknown fields are ignored, as llama.cpp and vLLM do,
/// so clients that send newer OpenAI fields still work; JSON null means "not given".
/// </summary>
public readonly struct JsonFields
{
    readonly JsonElement _object;
    readonly string _path;

    public JsonFields(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw path.Length == 0
                ? new ApiException(400, "the request body must be a JSON object", "invalid_json")
                : ApiException.WrongType(path, "an object");
        _object = element;
        _path = path;
    }

    public string PathOf(string name) => _path.Length == 0 ? name : $"{_path}.{name}";

    public JsonElement? Get(string name) =>
        _object.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public bool Has(string name) => Get(name) != null;

    public string? String(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiException.WrongType(PathOf(name), "a string");
    }

    public string RequiredString(string name) => String(name) ?? throw ApiException.Missing(PathOf(name));

    public bool? Bool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.WrongType(PathOf(name), "a boolean"),
        };
    }

    public double? Number(string name, double min, double max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw ApiException.WrongType(PathOf(name), "a number");
        if (d < min || d > max)
            throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must be between {min} and {max} (got {d})");
        return d;
    }

    public long? Integer(string name, long min, long max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n))
            throw ApiException.WrongType(PathOf(name), "an integer");
        if (n < min || n > max)
            throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must be between {min} and {max} (got {n})");
        return n;
    }

    public JsonFields? Object(string name) => Get(name) is { } v ? new JsonFields(v, PathOf(name)) : null;

    /// <summary>The "stop" field: a string or an array of strings, at most <paramref name="max"/>, none empty.</summary>
    public IReadOnlyList<string> StopStrings(string name, int max)
    {
        if (Get(name) is not { } v) return [];
        var stops = new List<string>();
        if (v.ValueKind == JsonValueKind.String)
            stops.Add(v.GetString()!);
        else if (v.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw ApiException.WrongType($"{PathOf(name)}[{i}]", "a string");
                stops.Add(item.GetString()!);
                i++;
            }
        }
        else
            throw ApiException.WrongType(PathOf(name), "a string or an array of strings");
        if (stops.Count > max)
            throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' may hold at most {max} strings (got {stops.Count})");
        if (stops.Any(s => s.Length == 0))
            throw ApiException.Invalid(PathOf(name), $"'{PathOf(name)}' must not contain empty strings");
        return stops;
    }
}
