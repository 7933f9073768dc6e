using System.CommandLine;
using Camelid.Data.Teacher;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>
/// How `eval answer` and `eval judge` talk to their OpenAI-compatible server: key, concurrency, rate limit,
/// timeout and retries, turned into the options of the shared client (Camelid.Data.Teacher).
/// </summary>
sealed class EndpointOptions
{
    readonly Option<string> _url;
    readonly Option<string> _model;
    readonly string _role;
    public readonly Option<string?> ApiKey = new("--api-key") { Description = "Bearer token for the server (default: $OPENAI_API_KEY)" };
    public readonly Option<int> Concurrency = new("--concurrency") { Description = "Requests in flight at once", DefaultValueFactory = _ => 4 };
    public readonly Option<double> RequestsPerMinute = new("--requests-per-minute") { Description = "Request rate limit, retries included (default 0: none)" };
    public readonly Option<double> Timeout = new("--request-timeout") { Description = "Seconds allowed for one request", DefaultValueFactory = _ => 600 };
    public readonly Option<int> Retries = new("--max-retries") { Description = "Retries of a failed request (429, 5xx, timeouts, broken answers)", DefaultValueFactory = _ => 6 };
    public readonly Option<double> RetryDelay = new("--retry-delay") { Description = "First retry's delay in seconds, doubled each time (with jitter) up to 60 s", DefaultValueFactory = _ => 1 };

    public EndpointOptions(Option<string> url, Option<string> model, string role)
    {
        _url = url;
        _model = model;
        _role = role;
    }

    public IEnumerable<Option> All => [_url, _model, ApiKey, Concurrency, RequestsPerMinute, Timeout, Retries, RetryDelay];

    public TeacherOptions Build(ParseResult parse)
    {
        string raw = parse.GetValue(_url)!;
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url))
            throw new ArgumentException($"{_url.Name} '{raw}' is not a URL");
        double retryDelay = parse.GetValue(RetryDelay);
        double timeout = parse.GetValue(Timeout);
        if (retryDelay < 0 || timeout <= 0)
            throw new ArgumentException("--retry-delay must be 0 or more and --request-timeout positive");
        var options = new TeacherOptions
        {
            BaseUrl = url,
            Model = parse.GetValue(_model)!,
            ApiKey = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
            Endpoint = TeacherEndpoint.Chat,
            Concurrency = parse.GetValue(Concurrency),
            RequestsPerMinute = parse.GetValue(RequestsPerMinute),
            RequestTimeout = TimeSpan.FromSeconds(timeout),
            MaxRetries = parse.GetValue(Retries),
            RetryBaseDelay = TimeSpan.FromSeconds(retryDelay),
            RetryMaxDelay = TimeSpan.FromSeconds(Math.Max(60, retryDelay)),
            Role = _role,
            UrlOption = _url.Name,
            ModelOption = _model.Name,
            EndpointOption = null, // eval always talks to /v1/chat/completions: there is no --endpoint to suggest
        };
        options.Validate();
        return options;
    }
}
