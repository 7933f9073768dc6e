using System.Net.Http.Json;
using System.Text.Json;
using Camelid.Model;
using Camelid.Server.Hosting;
using Camelid.Tests;

namespace Camelid.Server.Tests;

/// <summary>
/// One base and a LoRA adapter served side by side (`serve -m BASE=stories --lora DIR=stories-tuned`): the request's model
/// alias chooses, and each answers exactly as the engine does with or without the adapter.
/// </summary>
public sealed class LoraServingTests
{
    static readonly string Adapter = TestPaths.Fixture("lora/peft-stories260k-qv");

    [SharedDataFact("models/stories260K.gguf")]
    public async Task The_model_alias_chooses_between_the_base_and_its_adapter()
    {
        var options = new ServeOptions
        {
            Models = [new ModelSpec(ServerFixture.StoriesPath, "stories")],
            Adapters = [AdapterSpec.Parse(Adapter + "=stories-tuned")],
            Port = 0, Parallel = 2, ContextLength = 128,
        };
        await using var server = await CamelidServer.StartAsync(options, _ => { });
        await server.Loaded;
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(1) };

        using (var models = JsonDocument.Parse(await http.GetStringAsync("/v1/models")))
            Assert.Equal(["stories", "stories-tuned"], models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).Order());

        const string prompt = "Once upon a time";
        async Task<string> Complete(string model)
        {
            var response = await http.PostAsJsonAsync("/v1/completions", new { model, prompt, max_tokens = 12, temperature = 0 });
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return body.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }
        string fromBase = await Complete("stories"), fromAdapter = await Complete("stories-tuned");

        using var plain = LlamaModel.Load(ServerFixture.StoriesPath);
        using var adapted = LlamaModel.Load(ServerFixture.StoriesPath, new ModelLoadOptions { Adapters = [new AdapterReference(Adapter)] });
        Assert.Equal(Greedy(plain, prompt, 12), fromBase);
        Assert.Equal(Greedy(adapted, prompt, 12), fromAdapter);
        Assert.NotEqual(fromBase, fromAdapter);
    }

    [Fact]
    public void Adapter_specs_parse_and_bad_ones_are_refused()
    {
        var spec = AdapterSpec.Parse("/a/b:0.5=tuned");
        Assert.Equal(("/a/b", 0.5f, "tuned"), (spec.Adapter.Path, spec.Adapter.Scale, spec.Alias));
        Assert.Null(AdapterSpec.Parse("/a/b").Alias);
        Assert.Throws<ArgumentException>(() => AdapterSpec.Parse("/a/b="));
        var options = new ServeOptions { Models = [new ModelSpec("m.gguf", "m")], Adapters = [AdapterSpec.Parse(Adapter + "=m")] };
        Assert.Contains("two models are named 'm'", Assert.Throws<ArgumentException>(options.Validate).Message);
        var missing = new ServeOptions { Models = [new ModelSpec("m.gguf", "m")], Adapters = [AdapterSpec.Parse("/no/such/adapter=t")] };
        Assert.Contains("no such adapter folder", Assert.Throws<ArgumentException>(missing.Validate).Message);
    }

    /// <summary>The text of <paramref name="count"/> greedy tokens after the prompt, as /v1/completions encodes it.</summary>
    static string Greedy(LlamaModel model, string prompt, int count)
    {
        var tokenizer = model.RequireTokenizer();
        var tokens = tokenizer.Encode(prompt, addBos: tokenizer.AddBosByDefault, parseSpecial: true);
        var cache = model.NewKvCache(tokens.Length + count);
        var logits = model.Forward(tokens, cache, allLogits: false);
        var generated = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = Array.IndexOf(logits, logits.Max());
            if (tokenizer.IsEndOfGeneration(next))
                break;
            generated.Add(next);
            logits = model.Forward([next], cache, allLogits: false);
        }
        return tokenizer.Decode(generated.ToArray());
    }
}
