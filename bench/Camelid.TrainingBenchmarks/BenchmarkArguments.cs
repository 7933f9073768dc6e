namespace Camelid.TrainingBenchmarks;

sealed record BenchmarkArguments(string Shape, int Seq, int MicroBatch, int Steps, int Warmup, int Threads, bool GradientCheckpointing,
    int Seed, bool Profile, bool Json, string Method = "full", int LoraRank = 8, string LoraTargets = "all")
{
    public static BenchmarkArguments Parse(string[] args)
    {
        string shape = "stories15m";
        int seq = 256, microBatch = 4, steps = 3, warmup = 1, threads = Environment.ProcessorCount, seed = 1;
        bool checkpointing = false, profile = false, json = false;
        string method = "full", targets = "all";
        int rank = 8;
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
                case "--method":
                    method = Next();
                    if (method is not ("full" or "lora" or "qlora" or "qlora-q4_0" or "qlora-q8_0"))
                        throw new ArgumentException("--method must be full, lora, qlora, qlora-q4_0 or qlora-q8_0");
                    break;
                case "--lora-r": rank = Positive("--lora-r"); break;
                case "--lora-targets": targets = Next(); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (warmup < 0)
            throw new ArgumentException($"--warmup must be 0 or more, got {warmup}");
        if (profile && method != "full")
            throw new ArgumentException("--profile times the kernels of full training; leave it out with --method " + method);
        return new BenchmarkArguments(shape, seq, microBatch, steps, warmup, threads, checkpointing, seed, profile, json, method, rank, targets);
    }
}
