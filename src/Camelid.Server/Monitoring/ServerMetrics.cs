using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Camelid.Server.Hosting;

namespace Camelid.Server.Monitoring;

/// <summary>
/// Counters and histograms for GET /metrics in the Prometheus text format (version 0.0.4): requests by
/// endpoint and status, prompt (and cached prompt) and generated tokens, queue length, time to first token and tokens/s.
/// </summary>
public sealed class ServerMetrics
{
    readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    readonly ConcurrentDictionary<string, long> _promptTokens = new(), _cachedPromptTokens = new(), _generatedTokens = new();
    readonly Histogram _timeToFirstToken = new([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    readonly Histogram _tokensPerSecond = new([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);

    public void CountRequest(string endpoint, int status) => _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);

    public void CountTokens(string model, int prompt, int cachedPrompt, int generated)
    {
        _promptTokens.AddOrUpdate(model, prompt, (_, n) => n + prompt);
        _cachedPromptTokens.AddOrUpdate(model, cachedPrompt, (_, n) => n + cachedPrompt);
        _generatedTokens.AddOrUpdate(model, generated, (_, n) => n + generated);
    }

    public void ObserveTimeToFirstToken(TimeSpan t) => _timeToFirstToken.Observe(t.TotalSeconds);
    public void ObserveTokensPerSecond(double rate) => _tokensPerSecond.Observe(rate);

    public string Render(ModelRegistry registry)
    {
        var s = new StringBuilder();
        s.Append("# HELP camelid_requests_total HTTP requests by endpoint and status.\n# TYPE camelid_requests_total counter\n");
        foreach (var ((endpoint, status), n) in _requests.OrderBy(p => p.Key.Endpoint).ThenBy(p => p.Key.Status))
            s.Append($"camelid_requests_total{{endpoint=\"{Escape(endpoint)}\",status=\"{status}\"}} {n}\n");
        Counter(s, "camelid_prompt_tokens_total", "Prompt tokens processed.", _promptTokens);
        Counter(s, "camelid_prompt_tokens_cached_total", "Prompt tokens read from a cache instead of the model.", _cachedPromptTokens);
        Counter(s, "camelid_generated_tokens_total", "Tokens generated.", _generatedTokens);
        var models = registry.Models;
        s.Append("# HELP camelid_queue_length Requests waiting for a free sequence.\n# TYPE camelid_queue_length gauge\n");
        foreach (var m in models)
            s.Append($"camelid_queue_length{{model=\"{Escape(m.Alias)}\"}} {m.Batcher.Waiting}\n");
        s.Append("# HELP camelid_running_sequences Sequences being generated.\n# TYPE camelid_running_sequences gauge\n");
        foreach (var m in models)
            s.Append($"camelid_running_sequences{{model=\"{Escape(m.Alias)}\"}} {m.Batcher.Running}\n");
        _timeToFirstToken.Render(s, "camelid_time_to_first_token_seconds", "Time from request to first generated token.");
        _tokensPerSecond.Render(s, "camelid_tokens_per_second", "Decode speed of each finished generation.");
        return s.ToString();
    }

    static void Counter(StringBuilder s, string name, string help, ConcurrentDictionary<string, long> values)
    {
        s.Append($"# HELP {name} {help}\n# TYPE {name} counter\n");
        foreach (var (model, n) in values.OrderBy(p => p.Key))
            s.Append($"{name}{{model=\"{Escape(model)}\"}} {n}\n");
    }

    static string Escape(string label) => label.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    sealed class Histogram(double[] bounds)
    {
        readonly long[] _buckets = new long[bounds.Length];
        long _count;
        double _sum;

        public void Observe(double value)
        {
            lock (_buckets)
            {
                for (int i = 0; i < bounds.Length; i++)
                    if (value <= bounds[i])
                        _buckets[i]++;
                _count++;
                _sum += value;
            }
        }

        public void Render(StringBuilder s, string name, string help)
        {
            lock (_buckets)
            {
                s.Append($"# HELP {name} {help}\n# TYPE {name} histogram\n");
                for (int i = 0; i < bounds.Length; i++)
                    s.Append($"{name}_bucket{{le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {_buckets[i]}\n");
                s.Append($"{name}_bucket{{le=\"+Inf\"}} {_count}\n");
                s.Append($"{name}_sum {_sum.ToString("R", CultureInfo.InvariantCulture)}\n{name}_count {_count}\n");
            }
        }
    }
}
