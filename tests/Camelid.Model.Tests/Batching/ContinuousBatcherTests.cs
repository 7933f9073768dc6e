using System.Numerics.Tensors;
using Camelid.Inference.Batching;
using Camelid.Inference.Generation;
using Camelid.Inference.Sampling;
using Camelid.Model.Conversion;
using Camelid.Model.Tests.Conversion;
using Camelid.Tests;

namespace Camelid.Model.Tests.Batching;

public class ContinuousBatcherTests(ConversionTestModels models) : IClassFixture<ConversionTestModels>
{
    static readonly string Stories = TestPaths.Shared("models/stories260K.gguf");

    LlamaModel SynthesizedModel(LlamaFileType type)
    {
        string path = models.PathFor($"batcher-{type}.gguf");
        if (!File.Exists(path))
            ModelSynthesizer.Synthesize(ConversionTestModels.KQuantFriendly, type, seed: 11, path);
        return LlamaModel.Load(path, new ModelLoadOptions { Threads = 2 });
    }

    static GenerationRequest Greedy(int[] prompt, int maxTokens) => new()
    {
        PromptTokens = prompt, MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy,
    };

    static async Task<(string Text, int[] Tokens, GenerationSummary Summary)> Collect(IAsyncEnumerable<GenerationUpdate> updates)
    {
        var text = new System.Text.StringBuilder();
        var tokens = new List<int>();
        GenerationSummary? summary = null;
        await foreach (var u in updates)
        {
            text.Append(u.Text);
            if (u.TokenId is int id) tokens.Add(id);
            summary ??= u.Summary;
        }
        return (text.ToString(), tokens.ToArray(), summary!);
    }

    [SharedDataFact("models/stories260K.gguf")]
    public async Task Eight_concurrent_greedy_requests_each_give_what_the_single_sequence_generator_gives()
    {
        using var model = LlamaModel.Load(Stories, new ModelLoadOptions { Threads = 2 });
        var tokenizer = model.RequireTokenizer();
        string[] prompts = ["Once upon a time", "Lily had a red ball", "The dog", "One day, a little boy named Tim went to the park",
            "Sam was sad", "There was a big tree", "Mom said", "The sun was hot and the bird sang a song about the sky"];
        var expected = new List<string>();
        foreach (var p in prompts)
            expected.Add((await new Generator(model).GenerateTextAsync(Greedy(tokenizer.Encode(p, addBos: true), 60), model.NewKvCache(256))).Text);

        using var batcher = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 8, ContextLength = 256 });
        var results = await Task.WhenAll(prompts.Select(p => Collect(batcher.Submit(Greedy(tokenizer.Encode(p, addBos: true), 60)))));
        Assert.Equal(expected, results.Select(r => r.Text));
        Assert.All(results, r => Assert.Equal(r.Tokens.Length, r.Summary.GeneratedTokens));
        Assert.Equal(0, batcher.Running);
    }

    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ8_0)]
    public async Task Outputs_do_not_depend_on_how_many_sequences_share_the_batch(LlamaFileType type)
    {
        using var model = SynthesizedModel(type);
        int[][] prompts = Enumerable.Range(0, 8).Select(i => Enumerable.Range(0, 4 + 7 * i).Select(t => 1 + (t * 13 + i * 5) % 300).ToArray()).ToArray();

        using var alone = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 128, PrefillChunk = 16 });
        var one = new List<int[]>();
        foreach (var p in prompts)
            one.Add((await Collect(alone.Submit(Greedy(p, 24)))).Tokens);

        // Prefill chunks of 16 against prompts up to 53 tokens: new prompts are read between decode steps of others.
        using var shared = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 8, ContextLength = 128, PrefillChunk = 16 });
        var all = await Task.WhenAll(prompts.Select(p => Collect(shared.Submit(Greedy(p, 24)))));
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(one[i], all[i].Tokens);
        Assert.All(all, r => Assert.Equal(24, r.Tokens.Length));
    }

    [Fact]
    public async Task A_repeated_prompt_reuses_the_cache_and_gives_the_same_answer()
    {
        using var model = SynthesizedModel(LlamaFileType.MostlyQ4_0);
        bool exact = model.Transformer.PositionsIndependentOfChunking;
        using var batcher = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 128, PrefillChunk = 16 });
        var prompt = Enumerable.Range(0, 40).Select(t => 1 + t * 7 % 300).ToArray();
        var first = await Collect(batcher.Submit(Greedy(prompt, 10)));
        var second = await Collect(batcher.Submit(Greedy(prompt, 10)));
        Assert.Equal(0, first.Summary.ReusedPromptTokens);
        // All but the last token (which must run for its logits), or where positions depend on chunking, the
        // two whole chunks of 16.
        Assert.Equal(exact ? 39 : 32, second.Summary.ReusedPromptTokens);
        Assert.Equal(first.Tokens, second.Tokens);

        // A conversation that continues the first prompt reuses its answer too (the 9 answer tokens that went
        // through the model; the 10th was sampled last), or again the same chunks.
        var longer = prompt.Concat(first.Tokens).Concat([5, 6, 7]).ToArray();
        var third = await Collect(batcher.Submit(Greedy(longer, 4)));
        Assert.Equal(exact ? 49 : 32, third.Summary.ReusedPromptTokens);
        using var fresh = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 128, PrefillChunk = 16 });
        Assert.Equal((await Collect(fresh.Submit(Greedy(longer, 4)))).Tokens, third.Tokens);
    }

    [Theory]
    [InlineData(LlamaFileType.MostlyQ4_0)]
    [InlineData(LlamaFileType.MostlyQ4_K_M)]
    public async Task A_prompt_copies_the_prefix_it_shares_with_another_sequence_and_answers_as_alone(LlamaFileType type)
    {
        using var model = SynthesizedModel(type);
        bool exact = model.Transformer.PositionsIndependentOfChunking;
        // A shared "system prompt" of 37 tokens, then each request's own 6.
        var system = Enumerable.Range(0, 37).Select(t => 1 + (t * 11 + 2) % 300).ToArray();
        int[][] prompts = Enumerable.Range(0, 3).Select(i => system.Concat(Enumerable.Range(0, 6).Select(t => 1 + (t * 17 + i * 29) % 300)).ToArray()).ToArray();
        // The chosen tokens' log-probabilities too: a copied cache must give the very logits a fresh prefill gives.
        static GenerationRequest WithLogprobs(int[] prompt) => Greedy(prompt, 12) with { TopLogprobs = 0 };
        var alone = new List<float[]>();
        foreach (var p in prompts)
        {
            using var single = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 128, PrefillChunk = 16 });
            alone.Add(Logprobs(await Updates(single.Submit(WithLogprobs(p)))));
        }

        // Submitted together, each into an empty slot: the first reads the whole prompt, the others (read after
        // it, one prompt at a time) copy the shared start from its cache while it decodes.
        using var shared = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 3, ContextLength = 128, PrefillChunk = 16 });
        var streams = prompts.Select(p => shared.Submit(WithLogprobs(p))).ToArray(); // all queued before any step
        var results = await Task.WhenAll(streams.Select(Updates));
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(alone[i], Logprobs(results[i]));
        Assert.Equal(0, results[0][^1].Summary!.ReusedPromptTokens);
        Assert.All(results.Skip(1), r => Assert.Equal(exact ? system.Length : 32, r[^1].Summary!.ReusedPromptTokens));
    }

    static async Task<List<GenerationUpdate>> Updates(IAsyncEnumerable<GenerationUpdate> stream)
    {
        var updates = new List<GenerationUpdate>();
        await foreach (var u in stream)
            updates.Add(u);
        return updates;
    }

    static float[] Logprobs(List<GenerationUpdate> updates) => updates.Where(u => u.Logprob != null).Select(u => u.Logprob!.Logprob).ToArray();

    [Fact]
    public async Task Beyond_the_free_sequences_and_the_queue_requests_are_refused_and_cancelled_ones_free_their_place()
    {
        using var model = SynthesizedModel(LlamaFileType.MostlyQ4_0);
        using var batcher = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 128, MaxQueue = 1 });
        using var cancelFirst = new CancellationTokenSource();
        var first = batcher.Submit(Greedy([1, 2, 3], 120), cancelFirst.Token);
        var second = batcher.Submit(Greedy([1, 2, 4], 5));
        var refused = Assert.Throws<QueueFullException>(() => batcher.Submit(Greedy([1, 2, 5], 5)));
        Assert.Equal(1, refused.Waiting);

        var firstTask = Collect(first);
        cancelFirst.Cancel();
        var cancelled = await firstTask;
        Assert.Equal(FinishReason.Cancelled, cancelled.Summary.FinishReason);
        Assert.True(cancelled.Tokens.Length < 120);
        var done = await Collect(second);
        Assert.Equal(FinishReason.Length, done.Summary.FinishReason);
        Assert.Equal(5, done.Tokens.Length);
        Assert.Equal(0, batcher.Running);
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public void A_prompt_that_leaves_no_room_for_an_answer_is_refused_before_it_is_queued()
    {
        using var model = SynthesizedModel(LlamaFileType.MostlyQ4_0);
        using var batcher = new ContinuousBatcher(model, new BatchingOptions { MaxSequences = 1, ContextLength = 16 });
        Assert.Throws<ContextOverflowException>(() => batcher.Submit(Greedy(Enumerable.Range(1, 16).ToArray(), 4)));
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public async Task Embeddings_are_the_normalised_mean_of_the_final_hidden_states()
    {
        using var model = SynthesizedModel(LlamaFileType.AllF32);
        using var batcher = new ContinuousBatcher(model, new BatchingOptions { ContextLength = 64 });
        int[] tokens = [1, 17, 42, 99, 5];
        var embedding = await batcher.EmbedAsync(tokens);

        var expected = NormalisedMeanHiddenState(model, tokens);
        Assert.Equal(model.Config.Dim, embedding.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], embedding[i], 5);
        Assert.Equal(1f, TensorPrimitives.Norm(embedding), 4);
        // Another text gives another direction.
        var other = await batcher.EmbedAsync([1, 200, 201]);
        Assert.True(TensorPrimitives.Dot(embedding, other) < 0.999f);
    }

    [Fact]
    public async Task A_long_embedding_is_read_in_chunks_and_pools_every_token()
    {
        using var model = SynthesizedModel(LlamaFileType.AllF32);
        using var chunked = new ContinuousBatcher(model, new BatchingOptions { ContextLength = 64, PrefillChunk = 4 });
        int[] tokens = Enumerable.Range(1, 23).Select(t => t * 11 % 300).ToArray();
        var embedding = await chunked.EmbedAsync(tokens);

        // Six chunks against one pass: the same positions and cache, so only summation order differs.
        var expected = NormalisedMeanHiddenState(model, tokens);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], embedding[i], 4);
    }

    /// <summary>The final hidden states of one pass over <paramref name="tokens"/>, averaged in double and L2-normalised.</summary>
    static double[] NormalisedMeanHiddenState(LlamaModel model, int[] tokens)
    {
        int dim = model.Config.Dim;
        var hidden = new float[tokens.Length * dim];
        model.Transformer.ForwardHidden(tokens, model.NewKvCache(64), hidden);
        var mean = new double[dim];
        for (int t = 0; t < tokens.Length; t++)
            for (int i = 0; i < dim; i++)
                mean[i] += hidden[t * dim + i];
        double norm = Math.Sqrt(mean.Sum(v => v * v));
        return mean.Select(v => v / norm).ToArray();
    }
}
