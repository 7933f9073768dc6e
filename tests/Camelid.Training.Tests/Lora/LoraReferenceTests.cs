using Camelid.Formats.Safetensors;
using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Tensors.Threading;
using Camelid.Tests;
using Camelid.Training.Lora;
using Camelid.Training.Model;
using Camelid.Training.Model.Projections;
using Camelid.Training.Optimization;
using Xunit.Abstractions;
using static Camelid.Training.Tests.Model.ReferenceFixture;

namespace Camelid.Training.Tests.Lora;

/// <summary>
/// LoRA against PyTorch: tests/fixtures/lora/*.safetensors (tools/make_lora_fixtures.py, float64 autograd) hold the
/// logits, loss and dL/dA, dL/dB at a point with non-zero A and B, and for stories260K with q,v adapters 10 AdamW
/// steps from PEFT's initialisation (B = 0). The engine computes in f32; tolerances are f32 rounding.
/// </summary>
public sealed class LoraReferenceTests(ITestOutputHelper output)
{
    static string Fixture(string name) => TestPaths.Fixture(Path.Combine("lora", name));

    [SharedDataFact("models/stories260K.bin")]
    public void Stories260K_with_q_v_adapters_matches_pytorch_gradients_and_ten_steps()
    {
        using var fixture = SafetensorsFile.Open(Fixture("stories260k-qv.safetensors"));
        using var model = LlamaModel.Load(TestPaths.Shared("models/stories260K.bin"));
        var parameters = LlamaParameters.FromModel(model);
        CheckGradientPoint(fixture, parameters);

        // 10 steps from PEFT's initialisation: the fixture's A, B = 0; AdamW(lr 3e-3, betas 0.9/0.999, no decay), clip 1.0.
        var before = parameters.All.Select(p => (float[])p.Value.Clone()).ToList();
        var initial = AdapterFrom(fixture, "lora_a.", "lora_b.", parameters.Config, zeroB: true);
        var trainable = LoraTraining.Attach(TrainableModel.Dense(parameters), initial, dropout: 0);
        var transformer = new TrainingTransformer(trainable, Pool);
        var optimizer = new AdamW(trainable.TrainableParameters, new AdamWOptions { Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f });
        Assert.Equal(2 * 2 * parameters.Config.Layers, optimizer.Parameters.Count); // A and B of q and v per layer, nothing else
        var batch = BatchOf(fixture);
        double[] losses = Doubles(fixture, "losses"), norms = Doubles(fixture, "grad_norms");
        for (int step = 0; step < 10; step++)
        {
            trainable.ZeroGradients();
            double loss = transformer.ForwardBackward(batch, 1f / batch.TrainedTokens) / batch.TrainedTokens;
            Report($"step {step} loss {loss:F6} vs {losses[step]:F6}", Math.Abs(loss - losses[step]) / losses[step], 2e-6);
            double norm = GradientClipping.Clip(optimizer.Parameters, 1.0);
            Report($"step {step} grad norm {norm:F5}", Math.Abs(norm - norms[step]) / norms[step], 2e-5);
            optimizer.Update(3e-3f);
        }
        double final = transformer.Loss(batch) / batch.TrainedTokens;
        Report($"loss after 10 steps {final:F6} vs {losses[10]:F6}", Math.Abs(final - losses[10]) / losses[10], 5e-6);
        var expected = AdapterFrom(fixture, "final_a.", "final_b.", parameters.Config, zeroB: false);
        var trained = LoraTraining.Extract(trainable, new LoraConfig());
        foreach (var (actual, reference) in trained.Matrices.Zip(expected.Matrices))
        {
            Report($"final A {actual.Layer}.{actual.Target}", MaxDifference(actual.A, reference.A), 2e-5);
            Report($"final B {actual.Layer}.{actual.Target}", MaxDifference(actual.B, reference.B), 2e-5);
        }
        // The base is frozen: no gradient buffers, not one bit changed.
        foreach (var (p, original) in parameters.All.Zip(before))
        {
            Assert.False(p.Trainable, p.Name);
            Assert.Equal(original, p.Value);
        }
    }

    [Fact]
    public void Random_gqa_model_with_adapters_on_all_seven_matrices_and_the_head_matches_pytorch_gradients()
    {
        using var fixture = SafetensorsFile.Open(Fixture("random-gqa-all.safetensors"));
        using var weights = SafetensorsFile.Open(TestPaths.Fixture("training/random-gqa.safetensors"));
        CheckGradientPoint(fixture, Parameters(weights));
    }

    void CheckGradientPoint(SafetensorsFile fixture, LlamaParameters parameters)
    {
        var adapter = AdapterFrom(fixture, "lora_a.", "lora_b.", parameters.Config, zeroB: false);
        var batch = BatchOf(fixture);
        foreach (bool checkpointing in new[] { false, true })
        {
            var trainable = LoraTraining.Attach(TrainableModel.Dense(Clone(parameters)), adapter, dropout: 0);
            var transformer = new TrainingTransformer(trainable, Pool, checkpointing);
            Report($"logits (checkpointing={checkpointing})", MaxDifference(transformer.Logits(batch), Floats(fixture, "logits")), 5e-5);
            trainable.ZeroGradients();
            double loss = transformer.ForwardBackward(batch, 1f / batch.TrainedTokens) / batch.TrainedTokens;
            double expectedLoss = Doubles(fixture, "loss")[0];
            Report("loss", Math.Abs(loss - expectedLoss), 1e-5 * expectedLoss);
            foreach (var lora in trainable.Layers.SelectMany(l => l.Projections).Append(trainable.Head).OfType<LoraProjection>())
            {
                string key = lora.Name.Replace(".weight", "", StringComparison.Ordinal);
                foreach (var (p, prefix) in new[] { (lora.A, "grad_a."), (lora.B, "grad_b.") })
                {
                    var expected = Floats(fixture, prefix + key);
                    double scale = Math.Max(1e-4, expected.Max(Math.Abs));
                    Report($"{prefix}{key} (relative to max |g| {scale:g3})", MaxDifference(p.Gradient!, expected) / scale, 3e-5);
                }
            }
        }
    }

    /// <summary>The fixture's adapter tensors ("lora_a.blk.0.attn_q", …) as a LoraAdapter with the fixture's scale.</summary>
    static LoraAdapter AdapterFrom(SafetensorsFile f, string aPrefix, string bPrefix, LlamaConfig config, bool zeroB)
    {
        float scale = float.Parse(f.Metadata["scale"], System.Globalization.CultureInfo.InvariantCulture);
        var matrices = new List<LoraMatrix>();
        var positions = Enumerable.Range(0, config.Layers).SelectMany(layer => BlockMatrices.All.Select(target => (layer, target))).Append((-1, BlockMatrix.Head));
        foreach (var (layer, target) in positions)
        {
            string key = target.ParameterName(layer);
            if (f.Find(aPrefix + key) is not { } a)
                continue;
            var b = f.Find(bPrefix + key)!;
            matrices.Add(new LoraMatrix(layer, target, (int)a.Rows, (int)a.Cols, (int)b.Rows, a.ToFloats(),
                zeroB ? new float[b.ElementCount] : b.ToFloats(), scale));
        }
        Assert.NotEmpty(matrices);
        return new LoraAdapter(new LoraConfig { Rank = matrices[0].Rank }, matrices);
    }

    static readonly ComputePool Pool = new(2);

    void Report(string what, double difference, double tolerance)
    {
        output.WriteLine($"{what}: max difference {difference:E2} (tolerance {tolerance:E1})");
        Assert.True(difference <= tolerance, $"{what}: difference {difference:E3} exceeds {tolerance:E1}");
    }
}
