using Camelid.Formats;
using Camelid.Formats.Safetensors;
using Camelid.Model;
using Camelid.Tensors.Threading;
using Camelid.Tests;
using Camelid.Training.Model;
using Camelid.Training.Optimization;
using Xunit.Abstractions;
using static Camelid.Training.Tests.Model.ReferenceFixture;

namespace Camelid.Training.Tests.Model;

/// <summary>
/// The training engine against PyTorch (llm.c's test_gpt2 approach): tests/fixtures/training/*.safetensors,
/// made by tools/make_training_fixtures.py in float64, hold a fixed masked batch's logits, loss, every
/// parameter's gradient, and the losses and final weights of 10 AdamW steps with clipping and a warmup+cosine
/// schedule. The engine computes in f32, so tolerances are set by f32 rounding; each check prints its max difference.
/// </summary>
public sealed class PyTorchReferenceTests(ITestOutputHelper output)
{
    [SharedDataFact("models/stories260K.bin")]
    public void Stories260K_matches_pytorch() =>
        Check("stories260k.safetensors", fixture =>
        {
            using var model = LlamaModel.Load(TestPaths.Shared("models/stories260K.bin"));
            return LlamaParameters.FromModel(model);
        });

    [Fact]
    public void Random_gqa_model_with_untied_head_matches_pytorch() =>
        Check("random-gqa.safetensors", ReferenceFixture.Parameters);

    void Check(string name, Func<SafetensorsFile, LlamaParameters> load)
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture(Path.Combine("training", name)));
        var parameters = load(fixture);
        var batch = BatchOf(fixture);
        using var pool = new ComputePool(2);
        foreach (bool checkpointing in new[] { false, true })
        {
            var copy = Clone(parameters);
            var model = new TrainingTransformer(copy, pool, checkpointing);

            float[] logits = model.Logits(batch);
            Report($"logits (checkpointing={checkpointing})", MaxDifference(logits, Floats(fixture, "logits")), 5e-5);

            double expectedLoss = Doubles(fixture, "loss")[0];
            copy.ZeroGradients();
            double loss = model.ForwardBackward(batch, 1f / batch.TrainedTokens) / batch.TrainedTokens;
            Report("loss", Math.Abs(loss - expectedLoss), 1e-5 * expectedLoss);
            foreach (var p in copy.All)
            {
                var expected = Floats(fixture, "grad." + p.Name);
                double scale = Math.Max(1e-3, expected.Max(Math.Abs));
                Report($"grad {p.Name} (relative to max |g| {scale:g3})", MaxDifference(p.Gradient!, expected) / scale, 2e-5);
            }
        }

        // 10 AdamW steps on the same batch: clipping at 1.0, lr 1e-3 warmup 2 + cosine over 10, decay 0.1 on matrices.
        var trained = Clone(parameters);
        var trainer = new TrainingTransformer(trained, pool);
        var optimizer = new AdamW(trained.All, new AdamWOptions { Beta1 = 0.9f, Beta2 = 0.95f, Epsilon = 1e-8f, WeightDecay = 0.1f });
        var schedule = new LearningRateSchedule(ScheduleKind.Cosine, 1e-3, WarmupSteps: 2, TotalSteps: 10);
        double[] losses = Doubles(fixture, "losses"), rates = Doubles(fixture, "learning_rates"), norms = Doubles(fixture, "grad_norms");
        for (int step = 0; step < 10; step++)
        {
            trained.ZeroGradients();
            double loss = trainer.ForwardBackward(batch, 1f / batch.TrainedTokens) / batch.TrainedTokens;
            Report($"step {step} loss {loss:F6} vs {losses[step]:F6}", Math.Abs(loss - losses[step]) / losses[step], 2e-6);
            double norm = GradientClipping.Clip(trained.All, 1.0);
            Report($"step {step} grad norm {norm:F4}", Math.Abs(norm - norms[step]) / norms[step], 5e-6);
            double rate = schedule.At(step);
            Assert.Equal(rates[step], rate, 12);
            optimizer.Update((float)rate);
        }
        double final = trainer.Loss(batch) / batch.TrainedTokens;
        Report($"loss after 10 steps {final:F6} vs {losses[10]:F6}", Math.Abs(final - losses[10]) / losses[10], 2e-6);
        foreach (var p in trained.All)
            Report($"final {p.Name}", MaxDifference(p.Value, Floats(fixture, "final." + p.Name)), 5e-5);
    }

    void Report(string what, double difference, double tolerance)
    {
        output.WriteLine($"{what}: max difference {difference:E2} (tolerance {tolerance:E1})");
        Assert.True(difference <= tolerance, $"{what}: difference {difference:E3} exceeds {tolerance:E1}");
    }
}
