using Camelid.Inference.Generation;
using Camelid.Inference.Sampling;
using Camelid.Model;
using Camelid.Tests;
using TemplateMessage = Camelid.Tokenization.ChatTemplates.ChatMessage;

namespace Camelid.Extensions.AI.Tests;

/// <summary>
/// The tiny stories260K model behind a <see cref="CamelidChatClient"/>, and a second copy of it that the tests
/// drive with the single-sequence <see cref="Generator"/> as the reference the client must reproduce.
/// Loaded on first use, so that tests skipped for missing shared data never touch the file.
/// </summary>
public sealed class StoriesModel : IDisposable
{
    public const string RelativePath = "models/stories260K.gguf";
    public const int ContextLength = 512;
    public static string Path => TestPaths.Shared(RelativePath);

    readonly Lazy<CamelidChatClient> _client = new(() => CamelidChatClient.Open(Path, new CamelidChatClientOptions
    {
        ContextLength = ContextLength, MaxSequences = 4, Threads = 2,
    }));
    readonly Lazy<LlamaModel> _reference = new(() => LlamaModel.Load(Path, new ModelLoadOptions { Threads = 2 }));

    public CamelidChatClient Client => _client.Value;

    /// <summary>What the engine alone answers greedily to this templated conversation, with the server's conventions (template stops, leading whitespace trimmed).</summary>
    public async Task<(string Text, GenerationSummary Summary, int[] Prompt)> ReferenceAnswer(
        IReadOnlyList<TemplateMessage> conversation, int? maxTokens = null, params string[] stops)
    {
        var model = _reference.Value;
        var template = Client.Template;
        var prompt = template.Encode(model.RequireTokenizer(), conversation);
        var request = new GenerationRequest
        {
            PromptTokens = prompt,
            MaxTokens = maxTokens ?? ContextLength - prompt.Length,
            Sampling = SamplingOptions.Greedy,
            StopStrings = stops.Concat(template.StopStrings).ToArray(),
        };
        var (text, summary) = await new Generator(model).GenerateTextAsync(request, model.NewKvCache(ContextLength));
        return (text.TrimStart(), summary, prompt);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
            _client.Value.Dispose();
        if (_reference.IsValueCreated)
            _reference.Value.Dispose();
    }
}
