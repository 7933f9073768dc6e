using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Camelid.Tensors.Benchmarking;

namespace Camelid.Inference.Benchmarking;

/// <summary>How much <see cref="MachineProbe.Measure"/> reads and how long it spins.</summary>
public sealed record MachineProbeOptions
{
    /// <summary>The buffer read for memory bandwidth: far larger than any cache (default 1 GiB).</summary>
    public long BufferBytes { get; init; } = 1L << 30;
    /// <summary>Threads of the all-threads measurements (default: one per core).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Length of one timed compute run; the best of <see cref="Repetitions"/> is kept.</summary>
    public TimeSpan ComputeRunTime { get; init; } = TimeSpan.FromMilliseconds(200);
    public int Repetitions { get; init; } = 3;

    public void Validate()
    {
        if (BufferBytes < 1 << 20)
            throw new ArgumentException($"the bandwidth buffer must be at least 1 MiB, got {BufferBytes} bytes");
        if (Threads < 1)
            throw new ArgumentException($"threads must be 1 or more, got {Threads}");
        if (Repetitions < 1)
            throw new ArgumentException($"repetitions must be 1 or more, got {Repetitions}");
        if (ComputeRunTime <= TimeSpan.Zero)
            throw new ArgumentException("the compute run time must be positive");
    }
}

/// <summary>One physical limit, on one core and on all threads; null where the instructions are missing.</summary>
public sealed record MachineMeasurement
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("instructions")] public required string Instructions { get; init; }
    [JsonPropertyName("unit")] public required string Unit { get; init; }
    [JsonPropertyName("supported")] public required bool Supported { get; init; }
    [JsonPropertyName("single_thread")] public double? SingleThread { get; init; }
    [JsonPropertyName("all_threads")] public double? AllThreads { get; init; }
}

/// <summary>This machine's limits, so a kernel's GB/s or GOP/s reads as a fraction of what is possible.</summary>
public sealed record MachineProfile
{
    [JsonPropertyName("cpu_info")] public required string CpuInfo { get; init; }
    [JsonPropertyName("n_threads")] public required int Threads { get; init; }
    [JsonPropertyName("buffer_bytes")] public required long BufferBytes { get; init; }
    [JsonPropertyName("measurements")] public required IReadOnlyList<MachineMeasurement> Measurements { get; init; }

    /// <summary>Memory read bandwidth in GB/s (10⁹ bytes/s) on one core and on all threads.</summary>
    [JsonPropertyName("read_gbs_single_thread")] public double ReadGbsSingleThread => Find(MachineProbe.MemoryRead).SingleThread!.Value;
    [JsonPropertyName("read_gbs_all_threads")] public double ReadGbsAllThreads => Find(MachineProbe.MemoryRead).AllThreads!.Value;
    /// <summary>The best fp32 and int8 rates one core reached with any instruction set (0 if none ran).</summary>
    [JsonPropertyName("fp32_gflops_single_thread")] public double Fp32GflopsSingleThread => Best("fp32_", m => m.SingleThread);
    [JsonPropertyName("int8_gops_single_thread")] public double Int8GopsSingleThread => Best("int8_", m => m.SingleThread);
    [JsonPropertyName("fp32_gflops_all_threads")] public double Fp32GflopsAllThreads => Best("fp32_", m => m.AllThreads);
    [JsonPropertyName("int8_gops_all_threads")] public double Int8GopsAllThreads => Best("int8_", m => m.AllThreads);

    MachineMeasurement Find(string name) => Measurements.First(m => m.Name == name);

    double Best(string prefix, Func<MachineMeasurement, double?> value) =>
        Measurements.Where(m => m.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(m => value(m) ?? 0).DefaultIfEmpty(0).Max();
}

/// <summary>
/// Measures memory read bandwidth (a buffer far larger than the caches, read with the widest vector loads)
/// and the peak fp32 FMA and int8 dot-product rates of <see cref="PeakLoops"/>, on one thread and on all.
/// Each figure is the best of a few runs: a peak, not a typical value. Takes a few seconds.
/// </summary>
public static unsafe class MachineProbe
{
    public const string MemoryRead = "memory_read";

    public static MachineProfile Measure(MachineProbeOptions? options = null, Action<string>? progress = null)
    {
        options ??= new MachineProbeOptions();
        options.Validate();
        var measurements = new List<MachineMeasurement> { MeasureRead(options, progress) };
        foreach (var loop in PeakLoops.Compute)
        {
            if (!loop.IsSupported)
            {
                measurements.Add(new MachineMeasurement { Name = loop.Name, Instructions = loop.Instructions, Unit = loop.Unit, Supported = false });
                continue;
            }
            progress?.Invoke($"{loop.Name}: {loop.Instructions}");
            long iterations = Calibrate(loop, options.ComputeRunTime);
            double Rate(int threads) => threads * iterations * loop.OpsPerIteration / 1e9
                / BestSeconds(options.Repetitions, threads, _ => loop.Run(iterations));
            measurements.Add(new MachineMeasurement
            {
                Name = loop.Name, Instructions = loop.Instructions, Unit = loop.Unit, Supported = true,
                SingleThread = Rate(1), AllThreads = Rate(options.Threads),
            });
        }
        return new MachineProfile { CpuInfo = CpuName(), Threads = options.Threads, BufferBytes = options.BufferBytes, Measurements = measurements };
    }

    static MachineMeasurement MeasureRead(MachineProbeOptions options, Action<string>? progress)
    {
        long bytes = options.BufferBytes / 4096 * 4096;
        progress?.Invoke($"{MemoryRead}: {bytes >> 20} MiB");
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        try
        {
            NativeMemory.Fill(buffer, (nuint)bytes, 1); // touch every page so the reads hit memory, not the zero page
            double Rate(int threads)
            {
                // Each thread reads its own contiguous slice, 4 KiB aligned.
                long slice = bytes / threads / 4096 * 4096;
                double seconds = BestSeconds(options.Repetitions, threads, i => PeakLoops.Read(buffer + i * slice, i == threads - 1 ? bytes - i * slice : slice));
                return bytes / seconds / 1e9;
            }
            return new MachineMeasurement { Name = MemoryRead, Instructions = PeakLoops.ReadInstructions, Unit = "GB/s", Supported = true, SingleThread = Rate(1), AllThreads = Rate(options.Threads) };
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>Iterations that take about <paramref name="target"/> on one core (doubling from a short run first,
    /// which also compiles the loop).</summary>
    static long Calibrate(PeakLoop loop, TimeSpan target)
    {
        long iterations = 1 << 12;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            loop.Run(iterations);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (elapsed >= TimeSpan.FromMilliseconds(20) || iterations >= 1L << 40)
                return Math.Max(1, (long)(iterations * (target / elapsed)));
            iterations *= 2;
        }
    }

    /// <summary>The shortest wall time, over <paramref name="repetitions"/> runs, for <paramref name="threads"/>
    /// dedicated threads to each do <paramref name="work"/>(index). The clock starts when all are ready.</summary>
    static double BestSeconds(int repetitions, int threads, Func<int, long> work)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repetitions; r++)
        {
            using var ready = new CountdownEvent(threads);
            using var go = new ManualResetEventSlim();
            long sink = 0;
            var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                Interlocked.Add(ref sink, work(i));
            }) { IsBackground = true }).ToList();
            workers.ForEach(t => t.Start());
            ready.Wait();
            long start = Stopwatch.GetTimestamp();
            go.Set();
            workers.ForEach(t => t.Join());
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            GC.KeepAlive(sink);
        }
        return best;
    }

    /// <summary>The processor's name (Linux: /proc/cpuinfo "model name"), else the architecture.</summary>
    public static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                        return line[(colon + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        return $"{RuntimeInformation.ProcessArchitecture} ({Environment.ProcessorCount} logical cores)";
    }
}
