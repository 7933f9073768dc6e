using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Camelid.Formats;
using Camelid.Formats.Safetensors;
using Camelid.Model.Adapters;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Adapters;

/// <summary>
/// PEFT adapter files and runtime adapters. tests/fixtures/lora/peft-stories260k-qv was written by
/// tools/make_lora_fixtures.py from PEFT's conventions (tensor names, HF row order of q_proj's lora_B, the fields of
/// LoraConfig.to_dict()); stories260k-qv.safetensors holds the PyTorch logits of stories260K with that adapter.
/// </summary>
public sealed class PeftAdapterTests(ITestOutputHelper output)
{
    static readonly string PeftFolder = TestPaths.Fixture("lora/peft-stories260k-qv");
    const string Stories = "models/stories260K.bin";

    [SharedDataFact(Stories)]
    public void Runtime_adapter_from_a_peft_folder_reproduces_pytorch_logits()
    {
        using var reference = SafetensorsFile.Open(TestPaths.Fixture("lora/stories260k-qv.safetensors"));
        var inputs = MemoryMarshal.Cast<byte, int>(reference.Find("inputs")!.Bytes).ToArray();
        float[] expected = reference.Find("trained_logits")!.ToFloats(), baseLogits = reference.Find("logits")!.ToFloats();
        int rows = (int)reference.Find("inputs")!.Shape[0], length = inputs.Length / rows;

        using var model = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(PeftFolder)] });
        Assert.Single(model.Adapters);
        int vocab = model.Config.VocabSize;
        double worst = 0, reach = 0;
        for (int row = 0; row < rows; row++)
        {
            var logits = model.Forward(inputs.AsSpan(row * length, length), model.NewKvCache(), allLogits: true);
            var want = expected.AsSpan(row * length * vocab, length * vocab);
            for (int i = 0; i < logits.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(logits[i] - want[i]));
                reach = Math.Max(reach, Math.Abs(want[i]));
            }
        }
        output.WriteLine($"max |logit − PyTorch| = {worst:E2} (max |logit| {reach:F2})");
        Assert.True(worst / reach < 1e-5, $"relative difference {worst / reach:E2}");
        // The adapter matters: the base model's logits are far from the adapted ones.
        Assert.True(expected.Zip(baseLogits).Max(p => Math.Abs(p.First - p.Second)) > 0.1);
    }

    [SharedDataFact(Stories)]
    public void Saving_a_loaded_adapter_reproduces_pefts_files()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Stories));
        var adapter = LoraAdapter.Load(PeftFolder, model.Config);
        Assert.Equal(8, adapter.Config.Rank);
        Assert.Equal(16, adapter.Config.Alpha);
        Assert.Equal([BlockMatrix.Q, BlockMatrix.V], adapter.Config.Targets);
        Assert.All(adapter.Matrices, m => Assert.Equal(2f, m.Scale));
        Assert.Equal(2 * model.Config.Layers, adapter.Matrices.Count);

        string dir = TestPaths.NewTempDir();
        adapter.Save(Path.Combine(dir, "copy"), model.Config);
        using var original = SafetensorsFile.Open(Path.Combine(PeftFolder, LoraAdapter.WeightsFile));
        using var copy = SafetensorsFile.Open(Path.Combine(dir, "copy", LoraAdapter.WeightsFile));
        Assert.Equal(original.Tensors.Select(t => t.Name).Order(), copy.Tensors.Select(t => t.Name).Order());
        foreach (var t in original.Tensors)
        {
            var c = copy.Find(t.Name)!;
            Assert.Equal(t.Shape, c.Shape);
            Assert.True(t.Bytes.SequenceEqual(c.Bytes), $"{t.Name} differs after load + save (row order of lora_B?)");
        }
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", copy.Tensors.Select(t => t.Name));

        var expectedConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(PeftFolder, LoraAdapter.ConfigFile)))!.AsObject();
        var writtenConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "copy", LoraAdapter.ConfigFile)))!.AsObject();
        Assert.Equal(expectedConfig.Select(p => p.Key).Order(), writtenConfig.Select(p => p.Key).Order());
        foreach (var key in new[] { "peft_type", "task_type", "r", "lora_alpha", "lora_dropout", "target_modules", "base_model_name_or_path", "bias", "use_rslora", "fan_in_fan_out" })
            Assert.True(JsonNode.DeepEquals(expectedConfig[key], writtenConfig[key]), $"{key}: {writtenConfig[key]?.ToJsonString()} vs PEFT's {expectedConfig[key]?.ToJsonString()}");
    }

    [SharedDataFact(Stories)]
    public void Scale_multiplies_the_adapter_and_zero_gives_the_base_model()
    {
        int[] tokens = [1, 403, 407, 261, 378, 429, 10, 260];
        using var plain = LlamaModel.Load(TestPaths.Shared(Stories));
        using var off = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [AdapterReference.Parse(PeftFolder + ":0")] });
        using var once = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(PeftFolder)] });
        using var twice = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(PeftFolder, 2f)] });
        using var stacked = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(PeftFolder), new AdapterReference(PeftFolder)] });
        float[] Logits(LlamaModel m) => m.Forward(tokens, m.NewKvCache(), allLogits: true);
        Assert.Equal(Logits(plain), Logits(off));
        var (two, both) = (Logits(twice), Logits(stacked));
        Assert.True(two.Zip(both).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, "scale 2 and the same adapter twice should agree");
        Assert.True(Logits(once).Zip(two).Max(p => Math.Abs(p.First - p.Second)) > 0.01);
        // A view over a shared base: the base stays usable and unchanged after the view is disposed.
        var view = plain.WithAdapters([(LoraAdapter.Load(PeftFolder, plain.Config), 1f)]);
        Assert.Equal(Logits(once), Logits(view));
        view.Dispose();
        Assert.Equal(Logits(off), Logits(plain));
    }

    [SharedDataFact(Stories)]
    public void A_head_adapter_is_saved_under_pefts_lm_head_name_and_shifts_only_the_logits_by_its_low_rank_term()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Stories));
        var c = model.Config;
        var random = new Random(4);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var head = new LoraMatrix(-1, BlockMatrix.Head, 2, c.Dim, c.VocabSize, Values(2 * c.Dim), Values(c.VocabSize * 2), 0.5f);
        string dir = Path.Combine(TestPaths.NewTempDir(), "head");
        new LoraAdapter(new LoraConfig { Rank = 2, Alpha = 1, Targets = [BlockMatrix.Head] }, [head]).Save(dir, c);
        using (var file = SafetensorsFile.Open(Path.Combine(dir, LoraAdapter.WeightsFile)))
            Assert.Equal(["base_model.model.lm_head.lora_A.weight", "base_model.model.lm_head.lora_B.weight"], file.Tensors.Select(t => t.Name).Order());
        Assert.Equal("[\"lm_head\"]", JsonNode.Parse(File.ReadAllText(Path.Combine(dir, LoraAdapter.ConfigFile)))!["target_modules"]!.ToJsonString());
        var loaded = LoraAdapter.Load(dir, c);
        Assert.Equal(head.A, loaded.Matrices[0].A);
        Assert.Equal(head.B, loaded.Matrices[0].B);

        // Only the head changes: logits − base logits = s·B·(A·h) for the final normed state h, which is the same in both.
        int[] tokens = [1, 403, 407];
        using var adapted = LlamaModel.Load(TestPaths.Shared(Stories), new ModelLoadOptions { Adapters = [new AdapterReference(dir, 2f)] });
        var baseLogits = model.Forward(tokens, model.NewKvCache(), allLogits: false);
        var logits = adapted.Forward(tokens, adapted.NewKvCache(), allLogits: false);
        var difference = logits.Zip(baseLogits, (x, y) => x - y).ToArray();
        // The difference lies in the span of B's two columns: its residual after projecting on them is rounding only.
        var columns = Enumerable.Range(0, 2).Select(j => Enumerable.Range(0, c.VocabSize).Select(o => (double)head.B[o * 2 + j]).ToArray()).ToArray();
        var residual = difference.Select(v => (double)v).ToArray();
        for (int j = 0; j < 2; j++) // Gram–Schmidt against the two columns
        {
            var u = columns[j];
            for (int k = 0; k < j; k++)
            {
                double dot = u.Zip(columns[k], (x, y) => x * y).Sum();
                u = u.Zip(columns[k], (x, y) => x - dot * y).ToArray();
            }
            double norm = Math.Sqrt(u.Sum(x => x * x));
            columns[j] = u.Select(x => x / norm).ToArray();
            double along = residual.Zip(columns[j], (x, y) => x * y).Sum();
            residual = residual.Zip(columns[j], (x, y) => x - along * y).ToArray();
        }
        double size = Math.Sqrt(difference.Sum(v => (double)v * v)), left = Math.Sqrt(residual.Sum(x => x * x));
        output.WriteLine($"head adapter moved the logits by {size:F3}; outside span(B): {left:E2}");
        Assert.True(size > 0.1);
        Assert.True(left < 1e-4 * size);
    }

    [Theory]
    [InlineData("adapter", 1f)]
    [InlineData("adapter:0.5", 0.5f)]
    [InlineData("C:/adapters/x:2", 2f)]
    [InlineData("dir:with:colons", 1f)]
    public void Adapter_references_parse_an_optional_scale(string text, float scale)
    {
        var reference = AdapterReference.Parse(text);
        Assert.Equal(scale, reference.Scale);
        Assert.False(reference.Path.EndsWith(":" + scale.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    [SharedDataFact(Stories)]
    public void Adapters_that_do_not_fit_or_use_unsupported_peft_features_are_refused_with_the_reason()
    {
        using var model = LlamaModel.Load(TestPaths.Shared(Stories));
        string Variant(string name, Action<string> change)
        {
            string dir = Path.Combine(TestPaths.NewTempDir(name), "adapter");
            Directory.CreateDirectory(dir);
            foreach (var f in Directory.GetFiles(PeftFolder))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            change(dir);
            return dir;
        }
        void EditConfig(string dir, string key, JsonNode? value)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, LoraAdapter.ConfigFile)))!.AsObject();
            json[key] = value;
            File.WriteAllText(Path.Combine(dir, LoraAdapter.ConfigFile), json.ToJsonString());
        }
        void Refused(string dir, string reason, LlamaConfig? config = null)
        {
            var e = Assert.Throws<ModelFormatException>(() => LoraAdapter.Load(dir, config ?? model.Config));
            output.WriteLine(e.Message);
            Assert.Contains(reason, e.Message);
        }
        Refused(Path.Combine(PeftFolder, "missing"), "no such adapter folder");
        Refused(Variant("dora", d => EditConfig(d, "use_dora", true)), "DoRA");
        Refused(Variant("bias", d => EditConfig(d, "bias", "all")), "biases");
        Refused(Variant("saved", d => EditConfig(d, "modules_to_save", new JsonArray("lm_head"))), "modules_to_save");
        Refused(Variant("rank", d => EditConfig(d, "r", 4)), "rank 8");
        Refused(Variant("prefix", d => EditConfig(d, "peft_type", "PREFIX_TUNING")), "LoRA adapters");
        Refused(Variant("json", d => File.WriteAllText(Path.Combine(d, LoraAdapter.ConfigFile), "{ not json")), "not valid JSON");
        Refused(Variant("pickle", d =>
        {
            File.Move(Path.Combine(d, LoraAdapter.WeightsFile), Path.Combine(d, "adapter_model.bin"));
        }), "PyTorch pickle");
        Refused(PeftFolder, "another model", model.Config with { Dim = 128 });
        Refused(PeftFolder, "another model", model.Config with { Layers = 2 });
    }
}
