namespace Camelid.Data.Teacher;

/// <summary>Which OpenAI-compatible route the teacher is called on.</summary>
public enum TeacherEndpoint
{
    /// <summary><c>POST /v1/chat/completions</c>: the prompt is sent as one user message (hosted APIs, vLLM, llama.cpp, <c>camelid serve</c>).</summary>
    Chat,

    /// <summary><c>POST /v1/completions</c>: the prompt is continued as plain text, as the original GPT-3 scripts did (best for base models).</summary>
    Completions,
}

/// <summary>
/// Where the teacher is and how hard to push it. Retries use exponential backoff with jitter, starting at
/// <see cref="RetryBaseDelay"/> and capped at <see cref="RetryMaxDelay"/>; a server's Retry-After is honoured
/// (up to <see cref="RetryAfterLimit"/>) instead.
/// </summary>
public sealed record TeacherOptions
{
    /// <summary>The server, e.g. <c>http://127.0.0.1:8080</c>, <c>https://api.openai.com/v1</c>, or a full route URL.</summary>
    public required Uri BaseUrl { get; init; }

    public required string Model { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer …</c> when set.</summary>
    public string? ApiKey { get; init; }

    public TeacherEndpoint Endpoint { get; init; } = TeacherEndpoint.Chat;

    /// <summary>HTTP requests in flight at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Request starts per minute, retries included; 0 means no limit.</summary>
    public double RequestsPerMinute { get; init; }

    /// <summary>Time allowed for one attempt, from sending to the last byte of the body.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Attempts after the first one before a request is given up.</summary>
    public int MaxRetries { get; init; } = 6;

    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest Retry-After that is waited out as asked; a longer one is shortened to this.</summary>
    public TimeSpan RetryAfterLimit { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>What the server is called in messages ("teacher", "judge", "candidate model").</summary>
    public string Role { get; init; } = "teacher";

    /// <summary>The command-line options that set <see cref="BaseUrl"/> and <see cref="Model"/>, named in error messages.</summary>
    public string UrlOption { get; init; } = "--teacher-url";

    public string ModelOption { get; init; } = "--teacher-model";

    /// <summary>The command-line option that sets <see cref="Endpoint"/>, named in error messages; null for commands that always use the chat route.</summary>
    public string? EndpointOption { get; init; } = "--endpoint";

    /// <summary>Checks the values once, with messages that name the command-line option.</summary>
    public void Validate()
    {
        if (!BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != Uri.UriSchemeHttp && BaseUrl.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"{UrlOption} must be an http:// or https:// URL, not '{BaseUrl}'");
        if (string.IsNullOrWhiteSpace(Model))
            throw new ArgumentException($"{ModelOption} must name the {Role}'s model");
        if (Concurrency < 1)
            throw new ArgumentException("--concurrency must be at least 1");
        if (RequestsPerMinute < 0 || double.IsNaN(RequestsPerMinute))
            throw new ArgumentException("--requests-per-minute must be 0 (no limit) or positive");
        if (RequestTimeout < TimeSpan.FromMilliseconds(10) || RequestTimeout > TimeSpan.FromHours(24))
            throw new ArgumentException("--request-timeout must be between 0.01 and 86400 seconds");
        if (MaxRetries < 0)
            throw new ArgumentException("--max-retries must be 0 or more");
        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
            throw new ArgumentException("--retry-delay must be 0 or more, and at most the maximum retry delay");
    }
}
