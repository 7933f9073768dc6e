using System.Text.Json;
using Camelid.Model;
using Camelid.Server.Hosting;
using Camelid.Server.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Camelid.Server.Endpoints;

/// <summary>POST /v1/embeddings: the mean-pooled, L2-normalised final hidden state of each input.</summary>
static class EmbeddingsEndpoint
{
    const int MaxInputs = 256;

    public static async Task Handle(HttpContext http, ModelRegistry registry)
    {
        using var body = await RequestContext.ReadJsonAsync(http.Request);
        var f = new JsonFields(body.RootElement, "");
        var served = RequestContext.ResolveModel(f, registry);
        string format = f.String("encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
            throw ApiException.Invalid("encoding_format", $"'encoding_format' must be float or base64 (got '{format}')");
        if (f.Integer("dimensions", 1, int.MaxValue) is long dims && dims != served.Model.Config.Dim)
            throw ApiException.Invalid("dimensions", $"this model's embeddings have {served.Model.Config.Dim} dimensions (got {dims})");
        var inputs = ReadInputs(f, served);

        var vectors = new List<float[]>();
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].Length > served.ContextLength)
                throw new ApiException(400, $"input {i} has {inputs[i].Length} tokens; this model's context is {served.ContextLength}",
                    "context_length_exceeded", "input");
            try
            {
                vectors.Add(await served.Batcher.EmbedAsync(inputs[i], http.RequestAborted));
            }
            catch (ContextOverflowException e)
            {
                throw new ApiException(400, e.Message, "context_length_exceeded", "input");
            }
        }
        int tokens = inputs.Sum(t => t.Length);
        await http.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            data = vectors.Select((v, i) => new
            {
                @object = "embedding", index = i,
                embedding = format == "float" ? (object)v : Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan())),
            }),
            model = served.Alias,
            usage = new { prompt_tokens = tokens, total_tokens = tokens },
        }, Json.Options);
    }

    /// <summary>"input": a string, an array of strings, an array of token ids, or an array of such arrays.</summary>
    static List<int[]> ReadInputs(JsonFields f, ServedModel served)
    {
        var tokenizer = served.Tokenizer;
        if (f.Get("input") is not { } input)
            throw ApiException.Missing("input");
        int[] Encode(string text, string path) => text.Length > 0
            ? tokenizer.Encode(text, addBos: tokenizer.AddBosByDefault)
            : throw ApiException.Invalid(path, $"'{path}' must not be an empty string");
        int[] Tokens(JsonElement array, string path)
        {
            var ids = array.EnumerateArray().Select((e, i) =>
                e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id) && id >= 0 && id < tokenizer.VocabSize ? id
                : throw ApiException.Invalid($"{path}[{i}]", $"'{path}[{i}]' must be a token id between 0 and {tokenizer.VocabSize - 1}")).ToArray();
            return ids.Length > 0 ? ids : throw ApiException.Invalid(path, $"'{path}' must not be empty");
        }
        if (input.ValueKind == JsonValueKind.String)
            return [Encode(input.GetString()!, "input")];
        if (input.ValueKind != JsonValueKind.Array)
            throw ApiException.WrongType("input", "a string, an array of strings or an array of token ids");
        var items = input.EnumerateArray().ToList();
        if (items.Count == 0)
            throw ApiException.Invalid("input", "'input' must not be empty");
        if (items.All(e => e.ValueKind == JsonValueKind.Number))
            return [Tokens(input, "input")];
        if (items.Count > MaxInputs)
            throw ApiException.Invalid("input", $"at most {MaxInputs} inputs per request (got {items.Count})");
        return items.Select((e, i) => e.ValueKind switch
        {
            JsonValueKind.String => Encode(e.GetString()!, $"input[{i}]"),
            JsonValueKind.Array => Tokens(e, $"input[{i}]"),
            _ => throw ApiException.WrongType($"input[{i}]", "a string or an array of token ids"),
        }).ToList();
    }
}
