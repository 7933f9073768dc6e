using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Camelid.Benchmarks;

// Kernel benchmarks with GB/s and GOP/s columns next to this machine's measured peaks; see bench/README.md.
// `--filter '*MatMul*'` picks benchmarks, `--job short` runs a quick pass.
var config = DefaultConfig.Instance
    .AddColumn(WorkColumn.All)
    .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));
BenchmarkSwitcher.FromAssembly(typeof(WorkColumn).Assembly).Run(args, config);
