using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Camelid.Inference.Benchmarking;

/// <summary>Markdown tables in llama-bench's layout, and the JSON settings of both reports.</summary>
public static class BenchmarkReport
{
    public static JsonSerializerOptions Json { get; } = new() { WriteIndented = true };

    static readonly (string Name, int Width)[] ModelColumns =
        [("model", -30), ("size", 10), ("params", 10), ("threads", 7), ("test", 13), ("t/s", 20), ("GB/s", 10)];

    /// <summary>The header and separator lines; negative widths are left-aligned columns.</summary>
    public static string ModelTableHeader() => Row(ModelColumns, ModelColumns.Select(c => c.Name)) + "\n"
        + "|" + string.Concat(ModelColumns.Select(c => $" {new string('-', Math.Abs(c.Width) - 1)}{(c.Width > 0 ? ":" : "-")} |"));

    public static string ModelTableRow(ModelBenchmarkResult r) => Row(ModelColumns,
    [
        r.ModelType,
        FormatSize(r.ModelSize),
        FormatParameters(r.ModelParameters),
        r.Threads.ToString(CultureInfo.InvariantCulture),
        r.Test,
        $"{Fixed(r.AverageTokensPerSecond)} ± {Fixed(r.StdDevTokensPerSecond)}",
        r.GenerationBandwidthGbs is { } gbs ? Fixed(gbs) : "",
    ]);

    public static string MachineTable(MachineProfile p)
    {
        string all = $"{p.Threads} threads";
        (string, int)[] columns = [("measurement", -14), ("instructions", -36), ("unit", -7), ("1 thread", 10), (all, Math.Max(10, all.Length))];
        var sb = new StringBuilder();
        sb.AppendLine($"cpu: {p.CpuInfo}; memory read over {FormatSize(p.BufferBytes)}; best of several runs");
        sb.AppendLine();
        sb.AppendLine(Row(columns, columns.Select(c => c.Item1)));
        sb.AppendLine("|" + string.Concat(columns.Select(c => $" {new string('-', Math.Abs(c.Item2) - 1)}{(c.Item2 > 0 ? ":" : "-")} |")));
        foreach (var m in p.Measurements)
            sb.AppendLine(Row(columns, [m.Name, m.Instructions, m.Unit, m.SingleThread is { } s ? Fixed(s) : "n/a", m.AllThreads is { } a ? Fixed(a) : "n/a"]));
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>llama-bench's size column: MiB below 1 GiB, GiB above.</summary>
    public static string FormatSize(long bytes) => bytes < 1L << 30
        ? $"{Fixed(bytes / 1024.0 / 1024.0)} MiB"
        : $"{Fixed(bytes / 1024.0 / 1024.0 / 1024.0)} GiB";

    /// <summary>llama-bench's params column: millions below 10⁹, billions above.</summary>
    public static string FormatParameters(long parameters) => parameters < 1_000_000_000
        ? $"{Fixed(parameters / 1e6)} M"
        : $"{Fixed(parameters / 1e9)} B";

    static string Fixed(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    static string Row((string Name, int Width)[] columns, IEnumerable<string> values) =>
        "|" + string.Concat(columns.Zip(values, (c, v) => " " + (c.Width < 0 ? v.PadRight(-c.Width) : v.PadLeft(c.Width)) + " |"));
}
