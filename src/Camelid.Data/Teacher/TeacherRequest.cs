namespace Camelid.Data.Teacher;

/// <summary>
/// One prompt for the teacher with its decoding settings. <see cref="Seed"/> is passed on as the API's
/// <c>seed</c> so servers that honour it answer the same request the same way.
/// </summary>
public sealed record TeacherRequest
{
    /// <summary>The text sent as the one user message (chat) or continued (completions). Ignored when <see cref="Messages"/> is set.</summary>
    public string Prompt { get; init; } = "";

    /// <summary>
    /// A whole conversation for the chat endpoint (system, user and assistant messages in order), for multi-turn
    /// answers and judges with a system prompt. When non-empty it is sent instead of <see cref="Prompt"/>.
    /// </summary>
    public IReadOnlyList<TeacherMessage> Messages { get; init; } = [];

    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxTokens { get; init; } = 1024;
    public double PresencePenalty { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public int? Seed { get; init; }
}

/// <summary>One chat message: <see cref="Role"/> is "system", "user" or "assistant".</summary>
public sealed record TeacherMessage(string Role, string Content);

/// <summary>Tokens the teacher reports having read and written (the response's <c>usage</c>).</summary>
public readonly record struct TeacherUsage(long PromptTokens, long CompletionTokens)
{
    public long TotalTokens => PromptTokens + CompletionTokens;

    public static TeacherUsage operator +(TeacherUsage a, TeacherUsage b) =>
        new(a.PromptTokens + b.PromptTokens, a.CompletionTokens + b.CompletionTokens);
}

/// <summary>
/// The teacher's answer. <see cref="FinishReason"/> is the API's <c>finish_reason</c>: "stop", or "length"
/// when the answer was cut at <see cref="TeacherRequest.MaxTokens"/> (its last item is then incomplete).
/// </summary>
public sealed record TeacherCompletion(string Text, string FinishReason, TeacherUsage Usage)
{
    public bool Truncated => FinishReason == "length";
}

/// <summary>Anything that completes prompts: the HTTP client, or a stub in tests.</summary>
public interface ITeacher
{
    Task<TeacherCompletion> CompleteAsync(TeacherRequest request, CancellationToken cancellation);
}
