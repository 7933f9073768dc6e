using System.Net;

namespace Camelid.Data.Teacher;

/// <summary>
/// The teacher could not give an answer: unreachable, refused the request, or kept failing after every retry.
/// An <see cref="IOException"/>, because it is a failure of an outside resource: the CLI reports it in one line.
/// </summary>
public class TeacherException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>The teacher answered with an HTTP error status. 408, 409, 425, 429 and 5xx are worth retrying.</summary>
public sealed class TeacherHttpException(HttpStatusCode status, TimeSpan? retryAfter, string body)
    : TeacherException($"HTTP {(int)status} {status}{(body.Length > 0 ? ": " + body : "")}")
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The server's Retry-After, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsTransient => (int)Status is 408 or 409 or 425 or 429 or >= 500;
}

/// <summary>A 200 answer that is not a usable completion: invalid or truncated JSON, no choices, no text.</summary>
public sealed class TeacherResponseException(string message, Exception? inner = null) : TeacherException(message, inner);
