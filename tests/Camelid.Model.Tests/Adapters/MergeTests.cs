using Camelid.Model.Adapters;
using Camelid.Model.Conversion;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Adapters;

/// <summary>merge-lora (ModelConverter with adapters) against the runtime adapter: the same model two ways.</summary>
public sealed class MergeTests(ITestOutputHelper output)
{
    static readonly string PeftFolder = TestPaths.Fixture("lora/peft-stories260k-qv");
    const string Stories = "models/stories260K.gguf";
    static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 10, 260, 300, 301, 302, 303];

    [SharedDataTheory(Stories)]
    [InlineData("gguf", null, 1e-5)]        // f32 weights: only the order of the f32 sums differs
    [InlineData("hf", null, 1e-5)]
    [InlineData("gguf", "f16", 3e-3)]       // the merged weights are rounded to f16
    public void A_merged_model_equals_the_base_with_the_adapter_applied_at_run_time(string to, string? type, double tolerance)
    {
        string dir = TestPaths.NewTempDir();
        string merged = Path.Combine(dir, to == "hf" ? "merged" : "merged.gguf");
        using var reference = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(PeftFolder, 1.5f)] });
        var adapter = LoraAdapter.Load(PeftFolder, reference.Config);
        var notes = new List<string>();
        ModelConverter.Convert(TestPaths.Shared(Stories), merged, ModelConverter.ParseFormat(to), type == null ? null : LlamaFileTypes.Parse(type),
            note: notes.Add, merge: [(adapter, 1.5f)]);
        using var model = LlamaModel.Load(merged);

        var expected = reference.Forward(Tokens, reference.NewKvCache(), allLogits: true);
        var actual = model.Forward(Tokens, model.NewKvCache(), allLogits: true);
        double worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)), reach = expected.Max(Math.Abs);
        output.WriteLine($"{to} {type ?? "stored types"}: max |merged − runtime| = {worst:E2} (max |logit| {reach:F2}); notes: {string.Join("; ", notes)}");
        Assert.True(worst / reach < tolerance, $"relative difference {worst / reach:E2}");
        Assert.Equal(Greedy(reference, 24), Greedy(model, 24));

        using var plain = LlamaModel.Load(TestPaths.Shared(Stories));
        Assert.True(plain.Forward(Tokens, plain.NewKvCache(), allLogits: true).Zip(actual).Max(p => Math.Abs(p.First - p.Second)) > 0.01, "the merge changed nothing");
    }

    [SharedDataFact(Stories)]
    public void An_adapter_for_another_model_is_refused_before_anything_is_written()
    {
        string dir = TestPaths.NewTempDir();
        string merged = Path.Combine(dir, "merged.gguf");
        using var model = LlamaModel.Load(TestPaths.Shared(Stories));
        var adapter = LoraAdapter.Load(PeftFolder, model.Config);
        var wrong = new LoraAdapter(adapter.Config, [adapter.Matrices[0] with { Layer = 40 }]);
        Assert.Throws<Formats.ModelFormatException>(() => ModelConverter.Convert(TestPaths.Shared(Stories), merged, ModelFormat.Gguf, merge: [(wrong, 1f)]));
        Assert.Empty(Directory.GetFiles(dir));
    }

    static int[] Greedy(LlamaModel model, int count)
    {
        var cache = model.NewKvCache(64);
        var logits = model.Forward([1], cache, allLogits: false);
        var tokens = new int[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = Array.IndexOf(logits, logits.Max());
            logits = model.Forward([tokens[i]], cache, allLogits: false);
        }
        return tokens;
    }
}
