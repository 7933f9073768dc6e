using Camelid.Formats.Safetensors;
using Camelid.Model;
using Camelid.Training.Model;
using Xunit;

namespace Camelid.Training.Tests.Model;

/// <summary>Reading the PyTorch reference fixtures of tools/make_training_fixtures.py and tools/make_lora_fixtures.py.</summary>
static class ReferenceFixture
{
    public static LlamaParameters Parameters(SafetensorsFile f)
    {
        int Meta(string key) => int.Parse(f.Metadata[key], System.Globalization.CultureInfo.InvariantCulture);
        var config = new LlamaConfig
        {
            Dim = Meta("dim"), HiddenDim = Meta("hidden_dim"), Layers = Meta("layers"), Heads = Meta("heads"),
            KvHeads = Meta("kv_heads"), VocabSize = Meta("vocab"), TrainedContextLength = 64,
            RmsNormEps = float.Parse(f.Metadata["rms_eps"], System.Globalization.CultureInfo.InvariantCulture),
        };
        var shapes = LlamaParameters.Random(config, seed: 0, tiedOutput: f.Metadata["tied"] == "true");
        foreach (var p in shapes.All)
            Floats(f, "param." + p.Name).CopyTo(p.Value, 0);
        return shapes;
    }

    public static LlamaParameters Clone(LlamaParameters p)
    {
        var copy = LlamaParameters.Random(p.Config, seed: 0, tiedOutput: p.TiedOutput);
        foreach (var (from, to) in p.All.Zip(copy.All))
            from.Value.CopyTo(to.Value, 0);
        return copy;
    }

    public static TokenBatch BatchOf(SafetensorsFile f)
    {
        var inputs = f.Find("inputs")!;
        int rows = (int)inputs.Shape[0], length = (int)inputs.Shape[1];
        return new TokenBatch(rows, length, Ints(f, "inputs"), Ints(f, "targets"));
    }

    public static float[] Floats(SafetensorsFile f, string name) => (f.Find(name) ?? throw new KeyNotFoundException(name)).ToFloats();

    public static double[] Doubles(SafetensorsFile f, string name) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(f.Find(name)!.Bytes).ToArray();

    public static int[] Ints(SafetensorsFile f, string name) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(f.Find(name)!.Bytes).ToArray();

    public static double MaxDifference(float[] actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }
}
