namespace Camelid.Server.OpenAi;

/// <summary>
/// A request the server refuses, answered as OpenAI does: {"error":{"message","type","param","code"}}
/// with an HTTP status. Thrown anywhere while handling a request; the error middleware writes it.
/// </summary>
public sealed class ApiException(int status, string message, string code, string? param = null, string type = "invalid_request_error")
    : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? Param { get; } = param;
    public string Type { get; } = type;
    /// <summary>Seconds a client should wait before retrying (429 and 503).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiException Invalid(string param, string message) => new(400, message, "invalid_value", param);
    public static ApiException WrongType(string param, string expected) => new(400, $"'{param}' must be {expected}", "invalid_type", param);
    public static ApiException Missing(string param) => new(400, $"'{param}' is required", "missing_required_parameter", param);
}
