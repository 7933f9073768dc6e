namespace Camelid.TrainingBenchmarks;

sealed record BenchmarkArguments(string Shape, int Seq, int MicroBatch, int Steps, int Warmup, int Threads, bool GradientCheckpointing,
    int Seed, bool Profile, bool Json)
{
    public static BenchmarkArguments Parse(string[] args)
    {
        string shape = "stories15m";
        int seq = 256, microBatch = 4, steps = 3, warmup = 1, threads = Environment.ProcessorCount, seed = 1;
        bool checkpointing = false, profile = false, json = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Positive(string name)
            {
                int value = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture);
                return value >= 1 ? value : throw new ArgumentException($"{name} must be at least 1, got {value}");
            }
            switch (args[i])
            {
                case "--shape": shape = Next(); break;
                case "--seq": seq = Positive("--seq"); break;
                case "--micro-batch": microBatch = Positive("--micro-batch"); break;
                case "--steps": steps = Positive("--steps"); break;
                case "--warmup": warmup = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--threads": threads = Positive("--threads"); break;
                case "--seed": seed = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--grad-checkpointing": checkpointing = true; break;
                case "--profile": profile = true; break;
                case "--json": json = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (warmup < 0)
            throw new ArgumentException($"--warmup must be 0 or more, got {warmup}");
        return new BenchmarkArguments(shape, seq, microBatch, steps, warmup, threads, checkpointing, seed, profile, json);
    }
}
