namespace Camelid.Data.Nano;

/// <summary>A unit: its symbol (used in answers) and its names (used in questions).</summary>
public sealed record NanoUnit(string Symbol, string Singular, string Plural)
{
    public string Name(int count) => count == 1 ? Singular : Plural;
}

/// <summary>One direction of a conversion: <c>value in To = value in From × Factor</c>, or ÷ when <see cref="Divide"/>.</summary>
public sealed record NanoConversion(NanoUnit From, NanoUnit To, int Factor, bool Divide)
{
    /// <summary>The converted whole number; only values that convert exactly are ever asked.</summary>
    public int Apply(int value) => Divide ? value / Factor : value * Factor;
}

/// <summary>The fixed conversion table of the unit-conversion skill (every answer an integer).</summary>
public static class NanoUnits
{
    public static readonly NanoUnit Kilometre = new("km", "kilometre", "kilometres");
    public static readonly NanoUnit Metre = new("m", "metre", "metres");
    public static readonly NanoUnit Centimetre = new("cm", "centimetre", "centimetres");
    public static readonly NanoUnit Kilogram = new("kg", "kilogram", "kilograms");
    public static readonly NanoUnit Gram = new("g", "gram", "grams");
    public static readonly NanoUnit Hour = new("h", "hour", "hours");
    public static readonly NanoUnit Minute = new("min", "minute", "minutes");
    public static readonly NanoUnit Second = new("s", "second", "seconds");

    /// <summary>(larger unit, smaller unit, how many smaller in one larger); each gives both directions.</summary>
    public static IReadOnlyList<(NanoUnit Larger, NanoUnit Smaller, int Factor)> Table { get; } =
    [
        (Kilometre, Metre, 1000), (Metre, Centimetre, 100), (Kilogram, Gram, 1000), (Hour, Minute, 60), (Minute, Second, 60),
    ];

    public static IReadOnlyList<NanoConversion> Conversions { get; } =
    [
        .. Table.SelectMany(t => new[] { new NanoConversion(t.Larger, t.Smaller, t.Factor, false), new NanoConversion(t.Smaller, t.Larger, t.Factor, true) }),
    ];
}
