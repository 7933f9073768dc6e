using Camelid.Inference.Sampling;

namespace Camelid.Server.OpenAi;

/// <summary>
/// The sampling and output fields shared by /v1/chat/completions and /v1/completions. Fields a request
/// leaves out take llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05), as llama-server does.
/// </summary>
public sealed record GenerationParameters
{
    public required SamplingOptions Sampling { get; init; }
    /// <summary>Null: as many as fit the context (chat) or 16 (completions).</summary>
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public int N { get; init; } = 1;
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    /// <summary>Null: no logprobs; else the number of alternatives per token.</summary>
    public int? TopLogprobs { get; init; }
    public bool Echo { get; init; }

    public const int MaxChoices = 16;
    public const int MaxStopStrings = 16;

    public static GenerationParameters Read(JsonFields f, bool chat)
    {
        var defaults = new SamplingOptions();
        var sampling = new SamplingOptions
        {
            Temperature = (float)(f.Number("temperature", 0, 2) ?? defaults.Temperature),
            TopP = (float)(f.Number("top_p", 0, 1) ?? defaults.TopP),
            TopK = (int)(f.Integer("top_k", 0, int.MaxValue) ?? defaults.TopK),
            MinP = (float)(f.Number("min_p", 0, 1) ?? defaults.MinP),
            RepeatPenalty = (float)(f.Number("repeat_penalty", 0, 10) ?? defaults.RepeatPenalty),
            RepeatLastN = (int)(f.Integer("repeat_last_n", -1, int.MaxValue) ?? defaults.RepeatLastN),
            PresencePenalty = (float)(f.Number("presence_penalty", -2, 2) ?? 0),
            FrequencyPenalty = (float)(f.Number("frequency_penalty", -2, 2) ?? 0),
            Seed = f.Integer("seed", long.MinValue, long.MaxValue) is long seed ? (int)(seed ^ (seed >> 32)) : null,
        };
        if (sampling.TopP == 0)
            throw ApiException.Invalid("top_p", "'top_p' must be greater than 0");
        if (sampling.RepeatPenalty == 0)
            throw ApiException.Invalid("repeat_penalty", "'repeat_penalty' must be greater than 0");

        int? maxTokens;
        if (chat)
        {
            // max_completion_tokens replaced max_tokens in OpenAI's API; clients send either.
            maxTokens = (int?)(f.Integer("max_completion_tokens", 1, int.MaxValue) ?? f.Integer("max_tokens", 1, int.MaxValue));
        }
        else
            maxTokens = (int)(f.Integer("max_tokens", 0, int.MaxValue) ?? 16);

        bool stream = f.Bool("stream") ?? false;
        var streamOptions = f.Object("stream_options");
        if (streamOptions != null && !stream)
            throw ApiException.Invalid("stream_options", "'stream_options' is only allowed when 'stream' is true");

        int? topLogprobs;
        if (chat)
        {
            bool logprobs = f.Bool("logprobs") ?? false;
            var top = f.Integer("top_logprobs", 0, 20);
            if (top != null && !logprobs)
                throw ApiException.Invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            topLogprobs = logprobs ? (int)(top ?? 0) : null;
        }
        else
            topLogprobs = (int?)f.Integer("logprobs", 0, 5);

        return new GenerationParameters
        {
            Sampling = sampling,
            MaxTokens = maxTokens,
            Stop = f.StopStrings("stop", MaxStopStrings),
            N = (int)(f.Integer("n", 1, MaxChoices) ?? 1),
            Stream = stream,
            IncludeUsage = streamOptions?.Bool("include_usage") ?? false,
            TopLogprobs = topLogprobs,
            Echo = !chat && (f.Bool("echo") ?? false),
        };
    }

    /// <summary>The sampling of choice <paramref name="index"/>: with a seed, each choice gets its own (seed + index).</summary>
    public SamplingOptions SamplingFor(int index) =>
        index == 0 || Sampling.Seed == null ? Sampling : Sampling with { Seed = unchecked(Sampling.Seed.Value + index) };
}
