using System.Text.Json;
using Camelid.Model;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

/// <summary>`camelid bench` run as a user would, on the tiny stories260K model with tiny tests. Speeds are never
/// asserted; the structure, the counts and the arithmetic that ties the fields together are.</summary>
public class BenchCommandTests
{
    const string Gguf = "models/stories260K.gguf";

    [SharedDataFact(Gguf)]
    public void Json_OneObjectPerTestAndThreadCount_WithConsistentStatistics()
    {
        string path = TestPaths.Shared(Gguf);
        var r = CliRunner.Run("bench", "--model", path, "-p", "16", "-n", "8", "-r", "3", "-t", "1,2", "--json");
        Assert.True(r.ExitCode == 0, r.StandardError);
        using var doc = JsonDocument.Parse(r.StandardOutput);
        var tests = doc.RootElement.EnumerateArray().ToArray();

        // llama-bench's order: for each thread count, the prompt tests then the generation tests.
        Assert.Equal(["1 pp16", "1 tg8", "2 pp16", "2 tg8"], tests.Select(t => $"{t.GetProperty("n_threads").GetInt32()} {t.GetProperty("test").GetString()}"));

        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
        var c = model.Config;
        foreach (var t in tests)
        {
            int nPrompt = t.GetProperty("n_prompt").GetInt32(), nGen = t.GetProperty("n_gen").GetInt32();
            Assert.Equal(t.GetProperty("test").GetString() == "pp16" ? (16, 0) : (0, 8), (nPrompt, nGen));
            Assert.Equal(nPrompt > 0 ? 16 : 1, t.GetProperty("n_batch").GetInt32());
            Assert.Equal(path, t.GetProperty("model_filename").GetString());
            Assert.StartsWith("llama ", t.GetProperty("model_type").GetString());
            Assert.Equal(model.Tensors.Sum(x => x.ByteCount), t.GetProperty("model_size").GetInt64());
            Assert.True(t.GetProperty("model_size").GetInt64() < new FileInfo(path).Length);
            Assert.Equal(ExpectedParameters(model), t.GetProperty("model_n_params").GetInt64());
            Assert.False(string.IsNullOrEmpty(t.GetProperty("cpu_info").GetString()));
            Assert.True(DateTime.TryParse(t.GetProperty("test_time").GetString(), out _));

            long[] ns = t.GetProperty("samples_ns").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            double[] ts = t.GetProperty("samples_ts").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(3, ns.Length);
            Assert.Equal(3, ts.Length);
            for (int i = 0; i < 3; i++)
                AssertClose((nPrompt + nGen) * 1e9 / ns[i], ts[i]);
            double avg = t.GetProperty("avg_ts").GetDouble();
            Assert.True(avg > 0);
            AssertClose(ts.Average(), avg);
            AssertClose(Math.Sqrt(ts.Sum(x => (x - avg) * (x - avg)) / 2), t.GetProperty("stddev_ts").GetDouble());
            Assert.InRange(t.GetProperty("avg_ns").GetInt64(), (long)ns.Average() - 1, (long)ns.Average() + 1);
            Assert.True(t.GetProperty("stddev_ns").GetInt64() >= 0);

            if (nGen > 0)
            {
                // Weights: every tensor but the token embedding (only a row is gathered), unless the output reuses it.
                bool tied = !model.Tensors.Any(x => x.Name == "output.weight");
                long embedding = model.Tensors.Single(x => x.Name == "token_embd.weight").ByteCount;
                long weights = model.Tensors.Sum(x => x.ByteCount) - (tied ? 0 : embedding);
                double kv = 8.0 * 9 / 2 * 2 * c.KvDim * sizeof(float) * c.Layers; // positions 1..8 of keys and values
                double perToken = (8 * weights + kv) / 8;
                AssertClose(perToken, t.GetProperty("gen_bytes_per_token").GetDouble());
                AssertClose(ts.Average() * perToken / 1e9, t.GetProperty("gen_bandwidth_gbs").GetDouble());
            }
            else
            {
                Assert.Equal(JsonValueKind.Null, t.GetProperty("gen_bandwidth_gbs").ValueKind);
            }
        }
    }

    [SharedDataFact(Gguf)]
    public void HumanOutput_IsAMarkdownTable_ProgressOnStderr()
    {
        var r = CliRunner.Run("bench", "--model", TestPaths.Shared(Gguf), "-p", "8", "-n", "4", "-r", "2", "-t", "1");
        Assert.True(r.ExitCode == 0, r.StandardError);
        var lines = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal(["model", "size", "params", "threads", "test", "t/s", "GB/s"], Cells(lines[0]));
        Assert.Matches(@"^\|( -+:? \|)+$", lines[1].TrimEnd());
        var pp = Cells(lines[2]);
        var tg = Cells(lines[3]);
        Assert.Equal(("1", "pp8", ""), (pp[3], pp[4], pp[6]));
        Assert.Equal(("1", "tg4"), (tg[3], tg[4]));
        Assert.Matches(@"^\d+\.\d\d ± \d+\.\d\d$", pp[5]);
        Assert.Matches(@"^\d+\.\d\d ± \d+\.\d\d$", tg[5]);
        Assert.Matches(@"^\d+\.\d\d$", tg[6]);
        Assert.EndsWith(" MiB", pp[1]);
        Assert.EndsWith(" M", pp[2]);
        Assert.Contains("bench: tg4 with 1 thread: run 2/2", r.StandardError);
    }

    [Theory]
    [InlineData("-t", "0", "-t: thread counts must be 1 or more")]
    [InlineData("-t", "1,x", "-t: 'x' is not a whole number")]
    [InlineData("-t", "1,,2", "-t: '' is not a whole number")]
    [InlineData("-p", "-1", "-p: '-1' is not a whole number")]
    [InlineData("-n", "1.5", "-n: '1.5' is not a whole number")]
    [InlineData("-r", "0", "-r: repetitions must be 1 or more")]
    public void BadArguments_AreOneLineErrors(string flag, string value, string message)
    {
        AssertCleanError(CliRunner.Run("bench", "--model", "/no/such/model.gguf", flag + "=" + value), message);
    }

    [Fact]
    public void NothingToMeasure_OrNoModel_AreOneLineErrors()
    {
        AssertCleanError(CliRunner.Run("bench", "--model", "/no/such/model.gguf", "-p", "0", "-n", "0"), "nothing to measure");
        AssertCleanError(CliRunner.Run("bench"), "--model");
        AssertCleanError(CliRunner.Run("bench", "--model", "/no/such/model.gguf", "-r", "1"), "/no/such/model.gguf");
        AssertCleanError(CliRunner.Run("bench", "--machine", "--model", "x.gguf"), "not both");
    }

    [Fact]
    public void Machine_Json_HasEveryMeasurement_PositiveWhereSupported()
    {
        var r = CliRunner.Run("bench", "--machine", "--json", "-t", "2", "--machine-bytes", (16 << 20).ToString(), "--machine-run-ms", "10");
        Assert.True(r.ExitCode == 0, r.StandardError);
        using var doc = JsonDocument.Parse(r.StandardOutput);
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("n_threads").GetInt32());
        Assert.Equal(16 << 20, root.GetProperty("buffer_bytes").GetInt64());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("cpu_info").GetString()));
        var measurements = root.GetProperty("measurements").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["memory_read", "fp32_fma_512", "fp32_fma_256", "int8_madd_512", "int8_madd_256", "int8_vnni_256"], measurements.Keys);
        Assert.True(measurements["memory_read"].GetProperty("supported").GetBoolean());
        foreach (var m in measurements.Values)
        {
            Assert.False(string.IsNullOrEmpty(m.GetProperty("instructions").GetString()));
            Assert.Contains(m.GetProperty("unit").GetString(), new[] { "GB/s", "GFLOP/s", "GOP/s" });
            foreach (string field in new[] { "single_thread", "all_threads" })
            {
                if (m.GetProperty("supported").GetBoolean())
                    Assert.True(m.GetProperty(field).GetDouble() > 0, $"{m.GetProperty("name")} {field}");
                else
                    Assert.Equal(JsonValueKind.Null, m.GetProperty(field).ValueKind);
            }
        }
        Assert.True(root.GetProperty("read_gbs_single_thread").GetDouble() > 0);
        Assert.True(root.GetProperty("read_gbs_all_threads").GetDouble() > 0);
        bool anyFp32 = measurements.Values.Any(m => m.GetProperty("name").GetString()!.StartsWith("fp32") && m.GetProperty("supported").GetBoolean());
        Assert.Equal(anyFp32, root.GetProperty("fp32_gflops_single_thread").GetDouble() > 0);
    }

    [Fact]
    public void Machine_Table_ListsEveryMeasurement()
    {
        var r = CliRunner.Run("bench", "--machine", "-t", "2", "--machine-bytes", (16 << 20).ToString(), "--machine-run-ms", "10");
        Assert.True(r.ExitCode == 0, r.StandardError);
        var rows = r.StandardOutput.Split('\n').Where(l => l.StartsWith('|')).Select(Cells).ToArray();
        Assert.Equal(["measurement", "instructions", "unit", "1 thread", "2 threads"], rows[0]);
        Assert.Equal(["memory_read", "fp32_fma_512", "fp32_fma_256", "int8_madd_512", "int8_madd_256", "int8_vnni_256"], rows.Skip(2).Select(c => c[0]));
        Assert.All(rows.Skip(2), c => Assert.Matches(@"^(\d+\.\d\d|n/a)$", c[3]));
    }

    static string[] Cells(string line) => line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();

    /// <summary>The parameters of a LLaMA model from its shapes alone.</summary>
    static long ExpectedParameters(LlamaModel m)
    {
        var c = m.Config;
        bool tied = !m.Tensors.Any(x => x.Name == "output.weight");
        long perLayer = 2L * c.Dim + 2L * c.Dim * c.Dim + 2L * c.Dim * c.KvDim + 3L * c.Dim * c.HiddenDim;
        return (long)c.VocabSize * c.Dim * (tied ? 1 : 2) + c.Layers * perLayer + c.Dim;
    }

    static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    static void AssertCleanError(CliResult r, string mentions)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.StandardError);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
        Assert.Equal("", r.StandardOutput);
    }
}
