using Camelid.Formats.Safetensors;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tensors.Threading;
using Camelid.Tests;
using Camelid.Training.Export;
using Camelid.Training.Lora;
using Camelid.Training.Model;
using Camelid.Training.Model.Projections;
using Camelid.Training.Tests.Export;
using Xunit.Abstractions;
using static Camelid.Training.Tests.Model.ReferenceFixture;

namespace Camelid.Training.Tests.Lora;

/// <summary>LoRA dropout against central differences, and QLoRA's compressed base against LoRA on the same weights in f32.</summary>
public sealed class LoraProjectionTests(ITestOutputHelper output)
{
    static readonly ComputePool Pool = new(2);

    static float[] Normal(Random random, int count, double std = 1) =>
        Enumerable.Range(0, count).Select(_ => (float)(std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray();

    /// <summary>
    /// L = Σ g ⊙ y with y = W·x + s·B·A·dropout(x). With one noise key the mask is fixed, so L is linear in each of A, B
    /// and x, and central differences are exact up to rounding: every gradient entry is checked.
    /// </summary>
    [Theory]
    [InlineData(0.0f)]
    [InlineData(0.3f)]
    public void Gradients_with_dropout_match_central_differences(float dropout)
    {
        const int T = 4, input = 7, output_ = 5, rank = 3;
        var random = new Random(5);
        var w = new Parameter("w", output_, input, Normal(random, output_ * input));
        var a = new Parameter("a", rank, input, Normal(random, rank * input)) { Trainable = true };
        var b = new Parameter("b", output_, rank, Normal(random, output_ * rank)) { Trainable = true };
        var lora = new LoraProjection(new DenseProjection(w), a, b, scale: 1.5f, dropout, index: 0);
        float[] x = Normal(random, T * input), g = Normal(random, T * output_);
        var pass = new ForwardPass(Training: true, NoiseKey: 12345);

        double Loss()
        {
            var y = new float[T * output_];
            lora.Forward(y, x, T, Pool, pass);
            return y.Zip(g).Sum(p => (double)p.First * p.Second);
        }
        Loss();
        var dx = new float[T * input];
        lora.Backward(dx, g, x, T, Pool, accumulateInput: false);

        double worst = 0;
        void Check(float[] values, float[] analytic)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                const float h = 0.5f; // L is linear in each entry, so a large step has no truncation error and less rounding noise
                values[i] = saved + h;
                double up = Loss();
                values[i] = saved - h;
                double down = Loss();
                values[i] = saved;
                double numeric = (up - down) / (2 * h);
                worst = Math.Max(worst, Math.Abs(numeric - analytic[i]) / Math.Max(1, Math.Abs(numeric)));
            }
        }
        Check(a.Value, a.Gradient!);
        Check(b.Value, b.Gradient!);
        Check(x, dx);
        output.WriteLine($"dropout {dropout}: max relative difference {worst:E2} over every entry of dA, dB, dx");
        Assert.True(worst < 1e-4, $"{worst:E2}");
        Assert.Null(w.Gradient); // the base stays frozen
    }

    [Fact]
    public void Dropout_masks_are_a_function_of_the_key_and_keep_one_minus_p_scaled_up()
    {
        var ones = Enumerable.Repeat(1f, 200_000).ToArray();
        var first = new float[ones.Length];
        var again = new float[ones.Length];
        var other = new float[ones.Length];
        LoraProjection.ApplyDropout(first, ones, 0.25f, 99);
        LoraProjection.ApplyDropout(again, ones, 0.25f, 99);
        LoraProjection.ApplyDropout(other, ones, 0.25f, 100);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        double dropped = first.Count(v => v == 0) / (double)first.Length;
        Assert.InRange(dropped, 0.245, 0.255);
        Assert.All(first.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v));
        // masks of different keys are independent: about p² of positions are dropped by both
        double both = first.Zip(other).Count(p => p.First == 0 && p.Second == 0) / (double)first.Length;
        Assert.InRange(both, 0.0625 - 0.005, 0.0625 + 0.005);
    }

    [Fact]
    public void Inference_passes_do_not_drop()
    {
        var random = new Random(9);
        var w = new Parameter("w", 6, 8, Normal(random, 48));
        var a = new Parameter("a", 2, 8, Normal(random, 16)) { Trainable = true };
        var b = new Parameter("b", 6, 2, Normal(random, 12)) { Trainable = true };
        var withDropout = new LoraProjection(new DenseProjection(w), a, b, 2f, 0.5f, 0);
        var without = new LoraProjection(new DenseProjection(w), a, b, 2f, 0f, 0);
        var x = Normal(random, 3 * 8);
        float[] y1 = new float[18], y2 = new float[18], y3 = new float[18];
        withDropout.Forward(y1, x, 3, Pool, ForwardPass.Inference);
        without.Forward(y2, x, 3, Pool, new ForwardPass(true, 7));
        withDropout.Forward(y3, x, 3, Pool, new ForwardPass(true, 7));
        Assert.Equal(y2, y1);
        Assert.NotEqual(y1, y3);
    }

    /// <summary>
    /// QLoRA computes through the expanded compressed weight, so it must equal LoRA on a dense f32 model holding exactly
    /// those expanded weights: same logits and same adapter gradients, bit for bit.
    /// </summary>
    [Theory]
    [InlineData(FrozenType.Nf4)]
    [InlineData(FrozenType.Q8_0)]
    [InlineData(FrozenType.Q4_0)]
    public void Qlora_equals_lora_on_the_dequantized_base(FrozenType type)
    {
        var config = ExportTestModels.SmallConfig; // every dimension a multiple of ggml's 32-blocks
        string path = Path.Combine(TestPaths.NewTempDir(), "random.gguf");
        ModelExporter.WriteGguf(ExportTestModels.Random(config, tiedOutput: false), ExportTestModels.SyntheticTokenizer(config.VocabSize), path);
        using var model = LlamaModel.Load(path);

        var quantized = QuantizedBase.From(model, type);
        var dense = LlamaParameters.FromModel(model);
        foreach (var (block, layer) in quantized.Layers.Zip(dense.Layers))
            foreach (var (projection, parameter) in block.Projections.Zip((Parameter[])[layer.Wq, layer.Wk, layer.Wv, layer.Wo, layer.W1, layer.W3, layer.W2]))
                ((QuantizedProjection)projection).Weight.DequantizeRows(0, parameter.Rows, parameter.Value);

        var lora = new LoraConfig { Rank = 4, Alpha = 8, Dropout = 0, Targets = BlockMatrices.All };
        var qlora = LoraTraining.Attach(quantized, lora, seed: 1);
        var reference = LoraTraining.Attach(TrainableModel.Dense(dense), LoraTraining.Extract(qlora, lora), dropout: 0);
        // non-zero B so that every gradient is exercised
        var r = new Random(2);
        foreach (var (p, q) in qlora.TrainableParameters.Zip(reference.TrainableParameters))
            if (p.Name.EndsWith("lora_b", StringComparison.Ordinal))
            {
                var values = Normal(r, p.Count, 0.05);
                values.CopyTo(p.Value, 0);
                values.CopyTo(q.Value, 0);
            }

        var tokens = Enumerable.Range(0, 2 * 16).Select(i => (i * 37 + 5) % config.VocabSize).ToArray();
        var batch = new TokenBatch(2, 16, tokens, tokens.Skip(1).Append(-1).ToArray());
        var qModel = new TrainingTransformer(qlora, Pool);
        var dModel = new TrainingTransformer(reference, Pool);
        Assert.Equal(dModel.Logits(batch), qModel.Logits(batch));
        qlora.ZeroGradients();
        reference.ZeroGradients();
        Assert.Equal(dModel.ForwardBackward(batch, 0.1f, 77), qModel.ForwardBackward(batch, 0.1f, 77));
        foreach (var (p, q) in qlora.TrainableParameters.Zip(reference.TrainableParameters))
            Assert.Equal(q.Gradient, p.Gradient);

        long qloraBytes = QuantizedBase.FrozenBytes(qlora), loraBytes = QuantizedBase.FrozenBytes(reference);
        output.WriteLine($"{type}: frozen base {qloraBytes} bytes vs {loraBytes} in f32 ({(double)qloraBytes / loraBytes:P1})");
        Assert.True(qloraBytes < loraBytes);
    }
}
