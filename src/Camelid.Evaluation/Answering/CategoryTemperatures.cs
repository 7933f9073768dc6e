using System.Globalization;

namespace Camelid.Evaluation.Answering;

/// <summary>
/// Sampling temperature per question category, FastChat's llm_judge table: creative categories (writing,
/// roleplay) sample at 0.7, ones with a right answer (extraction, math, coding, reasoning) are greedy, knowledge
/// ones (stem, humanities) nearly so at 0.1; any other category (e.g. Vicuna-80's generic or fermi) gets 0.7.
/// </summary>
public sealed class CategoryTemperatures
{
    public static readonly IReadOnlyDictionary<string, double> FastChatDefaults = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase)
    {
        ["writing"] = 0.7, ["roleplay"] = 0.7,
        ["extraction"] = 0.0, ["math"] = 0.0, ["coding"] = 0.0, ["reasoning"] = 0.0,
        ["stem"] = 0.1, ["humanities"] = 0.1,
    };

    readonly Dictionary<string, double> _byCategory;

    public CategoryTemperatures(IReadOnlyDictionary<string, double>? overrides = null, double otherCategories = 0.7)
    {
        _byCategory = new Dictionary<string, double>(FastChatDefaults, StringComparer.OrdinalIgnoreCase);
        foreach (var (category, temperature) in overrides ?? new Dictionary<string, double>())
            _byCategory[category] = temperature;
        OtherCategories = otherCategories;
    }

    public double OtherCategories { get; }

    public double For(string category) => _byCategory.TryGetValue(category, out double t) ? t : OtherCategories;

    /// <summary>
    /// Reads <c>--temperature</c> values: <c>CATEGORY=T</c> sets one category, a bare <c>T</c> sets every
    /// category (FastChat's table included) to T.
    /// </summary>
    public static CategoryTemperatures Parse(IEnumerable<string> settings)
    {
        var overrides = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        double? everything = null;
        foreach (string setting in settings)
        {
            int equals = setting.IndexOf('=');
            string category = equals < 0 ? "" : setting[..equals].Trim();
            string number = equals < 0 ? setting : setting[(equals + 1)..];
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || t < 0 || t > 2 || (equals >= 0 && category.Length == 0))
                throw new ArgumentException($"--temperature '{setting}': expected CATEGORY=T or T, with T between 0 and 2");
            if (equals < 0)
                everything = t;
            else
                overrides[category] = t;
        }
        if (everything is { } all)
        {
            var flat = FastChatDefaults.Keys.ToDictionary(k => k, _ => all, StringComparer.OrdinalIgnoreCase);
            foreach (var (category, t) in overrides)
                flat[category] = t;
            return new CategoryTemperatures(flat, all);
        }
        return new CategoryTemperatures(overrides);
    }
}
