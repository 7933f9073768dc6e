using System.Text.Json;
using Camelid.Server.Hosting;
using Camelid.Server.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Camelid.Server.Endpoints;

/// <summary>What every API handler starts with: the parsed JSON body and the model it names.</summary>
static class RequestContext
{
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"the request body is not valid JSON: {e.Message}", "invalid_json");
        }
    }

    /// <summary>The model named by "model"; with a single model served, "model" may be left out.</summary>
    public static ServedModel ResolveModel(JsonFields f, ModelRegistry registry)
    {
        if (!registry.IsLoaded)
            throw registry.LoadError is { } e
                ? new ApiException(500, $"the model failed to load: {e.Message}", "model_load_failed", type: "server_error")
                : new ApiException(503, "the model is still loading; retry shortly", "model_loading", type: "server_error") { RetryAfterSeconds = 2 };
        string? name = f.String("model");
        if (name == null)
            return registry.Single ?? throw ApiException.Missing("model");
        return registry.Find(name) ?? throw new ApiException(404,
            $"The model '{name}' does not exist. Served models: {string.Join(", ", registry.Models.Select(m => m.Alias))}",
            "model_not_found", "model");
    }

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
