using Camelid.Formats;
using Camelid.Model.Conversion;

namespace Camelid.Model.Tests.Conversion;

public class ModelShapesTests
{
    [Fact]
    public void Named_shapes_have_the_published_hyperparameters()
    {
        var tiny = ModelShapes.Resolve("tinyllama-1.1b").Config;
        Assert.Equal((2048, 5632, 22, 32, 4, 32000, 2048, 1e-5f), (tiny.Dim, tiny.HiddenDim, tiny.Layers, tiny.Heads, tiny.KvHeads, tiny.VocabSize, tiny.TrainedContextLength, tiny.RmsNormEps));
        var seven = ModelShapes.Resolve("LLAMA-7B").Config;
        Assert.Equal((4096, 11008, 32, 32, 32, 1e-6f), (seven.Dim, seven.HiddenDim, seven.Layers, seven.Heads, seven.KvHeads, seven.RmsNormEps));
        var s15 = ModelShapes.Resolve("stories15m");
        Assert.Equal((288, 768, 6, 6, 6, 32000, 256), (s15.Config.Dim, s15.Config.HiddenDim, s15.Config.Layers, s15.Config.Heads, s15.Config.KvHeads, s15.Config.VocabSize, s15.Config.TrainedContextLength));
        Assert.True(s15.TiedEmbeddings);
        var s260 = ModelShapes.Resolve("stories260k").Config;
        Assert.Equal((64, 172, 5, 8, 4, 512, 512), (s260.Dim, s260.HiddenDim, s260.Layers, s260.Heads, s260.KvHeads, s260.VocabSize, s260.TrainedContextLength));
        // Parameter counts as published: TinyLlama 1.1B, LLaMA 6.7B.
        Assert.Equal(1_100_048_384, ModelSynthesizer.PlanTensors(ModelShapes.Named["tinyllama-1.1b"], LlamaFileType.AllF32).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)));
        Assert.Equal(6_738_415_616, ModelSynthesizer.PlanTensors(ModelShapes.Named["llama-7b"], LlamaFileType.AllF32).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)));
    }

    [Fact]
    public void A_config_json_with_extra_fields_and_defaults_parses()
    {
        var shape = ModelShapes.FromJson("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 128, "intermediate_size": 344,
             "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000, "torch_dtype": "float16",
             "rope_theta": 500000.0, "tie_word_embeddings": true}
            """, "config.json");
        Assert.Equal(4, shape.Config.KvHeads);
        Assert.Equal(2048, shape.Config.TrainedContextLength);
        Assert.Equal(1e-5f, shape.Config.RmsNormEps);
        Assert.Equal(500000.0, shape.Config.RopeTheta);
        Assert.True(shape.TiedEmbeddings);
        Assert.Equal("config", shape.Name);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("""{"intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""", "'hidden_size' is missing")]
    [InlineData("""{"hidden_size": "128", "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""", "'hidden_size' must be an integer")]
    [InlineData("""{"hidden_size": 128.5, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""", "'hidden_size' must be an integer")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": -1, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000}""", "'intermediate_size' must be positive")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 5, "vocab_size": 1000}""", "not divisible by heads")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3, "vocab_size": 1000}""", "not a multiple of kv_heads")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}""", "vocab_size 100 is too small")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000, "rms_norm_eps": "x"}""", "'rms_norm_eps' must be a number")]
    [InlineData("""{"hidden_size": 128, "intermediate_size": 344, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 1000, "tie_word_embeddings": 1}""", "'tie_word_embeddings' must be true or false")]
    [InlineData("""{"model_type": "mistral", "hidden_size": 128}""", "model_type 'mistral'")]
    public void Bad_shape_files_name_the_file_and_the_problem(string json, string message)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelShapes.FromJson(json, "shape.json"));
        Assert.StartsWith("shape.json: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Unknown_names_and_missing_files_are_clear()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelShapes.Resolve("llama-13b"));
        Assert.Contains("tinyllama-1.1b", e.Message);
        Assert.Throws<ModelFormatException>(() => ModelShapes.FromJsonFile("/no/such/shape.json"));
    }
}
