using Camelid.Model.Conversion;
using Camelid.Tensors.Quant;
using Xunit.Abstractions;

namespace Camelid.Model.Tests.Conversion;

/// <summary>The per-tensor types against llama.cpp's rules (llama-quant.cpp) and its published file sizes.</summary>
public class TensorTypeRulesTests(ITestOutputHelper output)
{
    static Dictionary<string, GgmlType> Plan(string shape, string type) =>
        ModelSynthesizer.PlanTensors(ModelShapes.Named[shape], LlamaFileTypes.Parse(type)).ToDictionary(t => t.Name, t => t.Type);

    [Fact]
    public void Use_more_bits_picks_the_first_and_last_eighth_and_every_third_layer_between()
    {
        // n = 32 (LLaMA-7B): n/8 = 4, 7n/8 = 28, and (i - 4) % 3 == 2 for 6, 9, ..., 27.
        int[] expected = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        Assert.Equal(expected, Enumerable.Range(0, 32).Where(i => TensorTypeRules.UseMoreBits(i, 32)));
        // n = 22 (TinyLlama): n/8 = 2, 7n/8 = 19.
        Assert.Equal([0, 1, 4, 7, 10, 13, 16, 19, 20, 21], Enumerable.Range(0, 22).Where(i => TensorTypeRules.UseMoreBits(i, 22)));
    }

    [Fact]
    public void Q4_K_M_mix_of_llama_7b()
    {
        var plan = Plan("llama-7b", "q4_k_m");
        var moreBits = Enumerable.Range(0, 32).Where(i => TensorTypeRules.UseMoreBits(i, 32)).ToHashSet();
        Assert.Equal(GgmlType.Q6_K, plan["output.weight"]);
        Assert.Equal(GgmlType.Q4_K, plan["token_embd.weight"]);
        Assert.Equal(GgmlType.F32, plan["output_norm.weight"]);
        for (int i = 0; i < 32; i++)
        {
            var bumped = moreBits.Contains(i) ? GgmlType.Q6_K : GgmlType.Q4_K;
            Assert.Equal(bumped, plan[$"blk.{i}.attn_v.weight"]);
            Assert.Equal(bumped, plan[$"blk.{i}.ffn_down.weight"]);
            foreach (var name in new[] { "attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up" })
                Assert.Equal(GgmlType.Q4_K, plan[$"blk.{i}.{name}.weight"]);
            Assert.Equal(GgmlType.F32, plan[$"blk.{i}.attn_norm.weight"]);
            Assert.Equal(GgmlType.F32, plan[$"blk.{i}.ffn_norm.weight"]);
        }
    }

    [Fact]
    public void Q4_K_S_and_plain_types()
    {
        var s = Plan("llama-7b", "q4_k_s");
        for (int i = 0; i < 32; i++)
        {
            Assert.Equal(i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K, s[$"blk.{i}.attn_v.weight"]);
            Assert.Equal(i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K, s[$"blk.{i}.ffn_down.weight"]);
        }
        // Legacy and uniform K types: everything of the type but output.weight (Q6_K; Q8_0 stays Q8_0) and norms.
        foreach (var (type, main, output) in new[] { ("q4_0", GgmlType.Q4_0, GgmlType.Q6_K), ("q4_1", GgmlType.Q4_1, GgmlType.Q6_K),
                     ("q5_0", GgmlType.Q5_0, GgmlType.Q6_K), ("q8_0", GgmlType.Q8_0, GgmlType.Q8_0), ("q6_k", GgmlType.Q6_K, GgmlType.Q6_K),
                     ("q5_k_s", GgmlType.Q5_K, GgmlType.Q6_K), ("f16", GgmlType.F16, GgmlType.F16), ("bf16", GgmlType.BF16, GgmlType.BF16),
                     ("f32", GgmlType.F32, GgmlType.F32) })
        {
            var plan = Plan("tinyllama-1.1b", type);
            Assert.Equal(output, plan["output.weight"]);
            Assert.All(plan.Where(kv => kv.Key != "output.weight"), kv => Assert.Equal(kv.Key.EndsWith("norm.weight") ? GgmlType.F32 : main, kv.Value));
        }
    }

    /// <summary>stories260K: rows of 64 and 172 fit no K-quant, 172 not even a 32-block: llama.cpp's fallbacks
    /// (Q4_K -> Q5_0, Q6_K -> Q8_0, then F16) and, for the tied embedding, the output rule's Q8_0.</summary>
    [Fact]
    public void Fallbacks_for_rows_that_do_not_fit()
    {
        var planned = ModelSynthesizer.PlanTensors(ModelShapes.Named["stories260k"], LlamaFileType.MostlyQ4_K_M);
        var plan = planned.ToDictionary(t => t.Name, t => t.Type);
        Assert.Equal(GgmlType.Q8_0, plan["token_embd.weight"]); // tied: output rule, 64 % 256 != 0
        Assert.Equal(GgmlType.Q5_0, plan["blk.1.attn_q.weight"]);
        Assert.Equal(GgmlType.Q5_0, plan["blk.1.attn_v.weight"]);
        Assert.Equal(GgmlType.Q5_0, plan["blk.1.ffn_up.weight"]);
        // use_more_bits(i, 5) picks layers 2 and 4.
        Assert.Equal(GgmlType.Q8_0, plan["blk.2.attn_v.weight"]); // Q6_K -> Q8_0
        Assert.Equal(GgmlType.Q5_0, plan["blk.0.attn_v.weight"]); // Q4_K -> Q5_0
        Assert.Equal(GgmlType.F16, plan["blk.4.ffn_down.weight"]); // Q6_K -> Q8_0 -> F16 (172 % 32 != 0)
        Assert.Equal(GgmlType.F16, plan["blk.1.ffn_down.weight"]); // Q4_K -> Q5_0 -> F16
        Assert.True(planned.Single(t => t.Name == "blk.1.ffn_down.weight").FellBack);
        Assert.False(planned.Single(t => t.Name == "blk.1.attn_norm.weight").FellBack);
        // Legacy types: llama.cpp has no fallback for a 172-long Q4_0 row; ours is F16.
        var q4 = Plan("stories260k", "q4_0");
        Assert.Equal(GgmlType.F16, q4["blk.2.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q4_0, q4["blk.2.ffn_up.weight"]);
        Assert.Equal(GgmlType.Q8_0, q4["token_embd.weight"]); // Q6_K -> Q8_0
    }

    /// <summary>Sizes llama-quantize reports for these models (TinyLlama 1.1B and LLaMA-1 7B GGUF files):
    /// when our types match its rules, our tensor bytes match its file sizes to well within 1%.</summary>
    [Theory]
    [InlineData("tinyllama-1.1b", "f16", 2.05 * 1024)]
    [InlineData("tinyllama-1.1b", "q8_0", 1.09 * 1024)]
    [InlineData("tinyllama-1.1b", "q4_0", 607)]
    [InlineData("tinyllama-1.1b", "q4_k_m", 636)]
    [InlineData("llama-7b", "q8_0", 6.67 * 1024)]
    [InlineData("llama-7b", "q4_0", 3.56 * 1024)]
    [InlineData("llama-7b", "q4_k_m", 3.80 * 1024)]
    public void Tensor_bytes_match_llama_cpp_file_sizes(string shape, string type, double expectedMiB)
    {
        double mib = ModelSynthesizer.PlanTensors(ModelShapes.Named[shape], LlamaFileTypes.Parse(type)).Sum(t => t.ByteCount) / (1024.0 * 1024);
        output.WriteLine($"{shape} {type}: {mib:F1} MiB of tensors, llama.cpp file {expectedMiB:F0} MiB");
        Assert.InRange(mib, expectedMiB * 0.99, expectedMiB * 1.01);
    }

    [Fact]
    public void File_order_is_llama_quantizes_layer_then_name()
    {
        var names = ModelSynthesizer.PlanTensors(ModelShapes.Named["tinyllama-1.1b"], LlamaFileType.MostlyQ4_0).Select(t => t.Name).ToList();
        Assert.Equal(["output.weight", "output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight", "blk.0.attn_norm.weight",
                      "blk.0.attn_output.weight", "blk.0.attn_q.weight", "blk.0.attn_v.weight", "blk.0.ffn_down.weight",
                      "blk.0.ffn_gate.weight", "blk.0.ffn_norm.weight", "blk.0.ffn_up.weight", "blk.1.attn_k.weight"], names.Take(13));
        Assert.Equal("blk.21.ffn_up.weight", names[^1]);
        Assert.Equal(3 + 22 * 9, names.Count);
        Assert.Equal(-1, TensorTypeRules.LayerOf("output.weight"));
        Assert.Equal(10, TensorTypeRules.LayerOf("blk.10.attn_q.weight"));
    }

    [Fact]
    public void Only_weight_matrices_are_converted()
    {
        Assert.True(TensorTypeRules.AllowsConversion("blk.0.attn_q.weight", [64, 64]));
        Assert.False(TensorTypeRules.AllowsConversion("blk.0.attn_norm.weight", [64]));
        Assert.False(TensorTypeRules.AllowsConversion("blk.0.attn_norm.weight", [1, 64])); // ggml_n_dims ignores the 1
        Assert.False(TensorTypeRules.AllowsConversion("rope_freqs.weight", [32]));
        Assert.False(TensorTypeRules.AllowsConversion("blk.0.ffn_norm.weight", [64, 64]));
        Assert.False(TensorTypeRules.AllowsConversion("blk.0.attn_q.bias", [64, 64]));
    }
}
