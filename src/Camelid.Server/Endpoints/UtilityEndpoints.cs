using System.Text.Json;
using Camelid.Server.Hosting;
using Camelid.Server.Monitoring;
using Camelid.Server.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Camelid.Server.Endpoints;

/// <summary>GET /v1/models, GET /health, GET /metrics, POST /tokenize and POST /detokenize (llama-server's shapes).</summary>
static class UtilityEndpoints
{
    public static IResult Models(ModelRegistry registry) => Results.Json(new
    {
        @object = "list",
        data = registry.Models.Select(m => new
        {
            id = m.Alias, @object = "model", created = m.Created, owned_by = "camelid",
            // Beyond OpenAI's fields, as llama-server does: what a client needs to size its requests.
            meta = new { context_length = m.ContextLength, parameters = m.Model.ParameterCount, vocab_size = m.Model.Config.VocabSize, chat_template = m.Template.Template.Name },
        }),
    }, Json.Options);

    public static IResult Health(ModelRegistry registry) =>
        registry.IsLoaded ? Results.Json(new { status = "ok" })
        : registry.LoadError is { } e ? Results.Json(new { status = "error", error = e.Message }, statusCode: 500)
        : Results.Json(new { status = "loading" }, statusCode: 503);

    public static IResult Metrics(ModelRegistry registry, ServerMetrics metrics) =>
        Results.Text(metrics.Render(registry), "text/plain; version=0.0.4; charset=utf-8");

    /// <summary>{"content": "...", "add_special": false, "with_pieces": false, "model": optional} → {"tokens": [...]}</summary>
    public static async Task<IResult> Tokenize(HttpContext http, ModelRegistry registry)
    {
        using var body = await RequestContext.ReadJsonAsync(http.Request);
        var f = new JsonFields(body.RootElement, "");
        var served = RequestContext.ResolveModel(f, registry);
        var tokenizer = served.Tokenizer;
        string content = f.RequiredString("content");
        var ids = tokenizer.Encode(content, addBos: (f.Bool("add_special") ?? false) && tokenizer.AddBosByDefault, parseSpecial: f.Bool("parse_special") ?? true);
        if (f.Bool("with_pieces") ?? false)
            return Results.Json(new { tokens = ids.Select(id => new { id, piece = tokenizer.TokenPiece(id) }) }, Json.Options);
        return Results.Json(new { tokens = ids }, Json.Options);
    }

    /// <summary>{"tokens": [...], "model": optional} → {"content": "..."}</summary>
    public static async Task<IResult> Detokenize(HttpContext http, ModelRegistry registry)
    {
        using var body = await RequestContext.ReadJsonAsync(http.Request);
        var f = new JsonFields(body.RootElement, "");
        var served = RequestContext.ResolveModel(f, registry);
        if (f.Get("tokens") is not { } tokens)
            throw ApiException.Missing("tokens");
        if (tokens.ValueKind != JsonValueKind.Array)
            throw ApiException.WrongType("tokens", "an array of token ids");
        int vocab = served.Tokenizer.VocabSize;
        var ids = tokens.EnumerateArray().Select((e, i) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id) && id >= 0 && id < vocab ? id
            : throw ApiException.Invalid($"tokens[{i}]", $"'tokens[{i}]' must be a token id between 0 and {vocab - 1}")).ToArray();
        return Results.Json(new { content = served.Tokenizer.Decode(ids, skipSpecial: false) }, Json.Options);
    }
}
