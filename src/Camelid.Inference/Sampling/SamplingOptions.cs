namespace Camelid.Inference.Sampling;

/// <summary>
/// How the next token is chosen from the logits; defaults follow llama.cpp's. Temperature 0 is greedy.
/// The pipeline order is llama.cpp's too: penalties, top-k, top-p, min-p, temperature, draw.
/// </summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep the K most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Keep the smallest set of tokens whose probabilities sum to at least P; 1 keeps all.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Drop tokens less likely than MinP times the most likely one; 0 keeps all.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>CTRL-style repetition penalty (Keskar et al. 2019) over the last <see cref="RepeatLastN"/> tokens; 1 is off.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;
    /// <summary>OpenAI-style penalties: subtract presence once, and frequency × count, for each recent token.</summary>
    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }
    /// <summary>How many recent tokens the penalties look at; 0 disables them, -1 means the whole context.</summary>
    public int RepeatLastN { get; init; } = 64;
    /// <summary>Random seed; null picks one at random.</summary>
    public int? Seed { get; init; }

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Temperature >= 0 && float.IsFinite(Temperature), $"temperature must be >= 0 (got {Temperature})");
        Require(TopK >= 0, $"top-k must be >= 0 (got {TopK})");
        Require(TopP is > 0 and <= 1, $"top-p must be in (0, 1] (got {TopP})");
        Require(MinP is >= 0 and <= 1, $"min-p must be in [0, 1] (got {MinP})");
        Require(RepeatPenalty > 0 && float.IsFinite(RepeatPenalty), $"repeat penalty must be > 0 (got {RepeatPenalty})");
        Require(float.IsFinite(PresencePenalty) && float.IsFinite(FrequencyPenalty), "presence and frequency penalties must be finite");
        Require(RepeatLastN >= -1, $"repeat-last-n must be >= -1 (got {RepeatLastN})");
    }
}
