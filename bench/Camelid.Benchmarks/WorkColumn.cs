using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Camelid.Inference.Benchmarking;

namespace Camelid.Benchmarks;

/// <summary>
/// Summary columns computed from the mean time and <see cref="IWorkload.Work"/>: GB/s and GOP/s, and each as
/// a percentage of the single-thread peaks that <see cref="MachineProbe"/> measures once, in the host process,
/// when the summary is printed (the benchmarks themselves run on one thread).
/// </summary>
public sealed class WorkColumn(string name, string legend, Func<Work, double, double?> value) : IColumn
{
    public static readonly IColumn[] All =
    [
        new WorkColumn("GB/s", "Bytes read per second (10^9), from the mean time", (w, ns) => w.Bytes > 0 ? w.Bytes / ns : null),
        new WorkColumn("% read BW", "GB/s as a percentage of this machine's single-thread memory read bandwidth (kernels whose data comes from memory)",
            (w, ns) => w.Bytes > 0 && w.FromMemory ? 100 * w.Bytes / ns / MachinePeaks.Profile.ReadGbsSingleThread : null),
        new WorkColumn("GOP/s", "Operations per second (10^9; a multiply-add is 2), from the mean time", (w, ns) => w.Ops > 0 ? w.Ops / ns : null),
        new WorkColumn("% peak", "GOP/s as a percentage of one core's fp32 FMA peak (float kernels) or int8 dot peak (quantized kernels)",
            (w, ns) => w.Peak switch
            {
                PeakKind.Fp32 => 100 * w.Ops / ns / MachinePeaks.Profile.Fp32GflopsSingleThread,
                PeakKind.Int8 => 100 * w.Ops / ns / MachinePeaks.Profile.Int8GopsSingleThread,
                _ => null,
            }),
    ];

    public string Id => nameof(WorkColumn) + "." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNs is not > 0 || WorkOf(benchmarkCase) is not { } work)
            return "-";
        return value(work, meanNs.Value) is { } v && double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
    }

    /// <summary>A fresh instance of the benchmark class with the case's parameters set, asked for its work.</summary>
    static Work? WorkOf(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (Activator.CreateInstance(type) is not IWorkload instance)
            return null;
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
            if (type.GetProperty(p.Name, Public) is { } property)
                property.SetValue(instance, p.Value);
            else
                type.GetField(p.Name, Public)?.SetValue(instance, p.Value);
        }
        return instance.Work(benchmarkCase.Descriptor.WorkloadMethod.Name);
    }

    public override string ToString() => ColumnName;
}

/// <summary>The machine's limits, measured on first use (a few seconds, 1 GiB read) on one thread.</summary>
static class MachinePeaks
{
    static readonly Lazy<MachineProfile> s_profile = new(() =>
    {
        Console.WriteLine("// measuring this machine's single-thread peaks for the % columns (camelid bench --machine)");
        return MachineProbe.Measure(new MachineProbeOptions { Threads = 1 });
    });

    public static MachineProfile Profile => s_profile.Value;
}
