using System.Numerics.Tensors;
using Camelid.Inference.Batching;
using Camelid.Tests;
using Microsoft.Extensions.AI;

namespace Camelid.Extensions.AI.Tests;

public class CamelidEmbeddingGeneratorTests(StoriesModel stories) : IClassFixture<StoriesModel>
{
    IEmbeddingGenerator<string, Embedding<float>> Generator => new CamelidEmbeddingGenerator(stories.Client.Batcher);

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Embeddings_have_unit_norm_differ_between_texts_and_repeat_for_the_same_text()
    {
        string[] texts = ["The cat sat on the mat.", "Lily went to the park with her mom.", "The cat sat on the mat."];
        var embeddings = await Generator.GenerateAsync(texts);

        Assert.Equal(3, embeddings.Count);
        Assert.All(embeddings, e => Assert.Equal(64, e.Dimensions));
        Assert.All(embeddings, e => Assert.Equal(1f, TensorPrimitives.Norm(e.Vector.Span), 4));
        Assert.All(embeddings, e => Assert.Equal("stories260K", e.ModelId));
        Assert.Equal(embeddings[0].Vector.ToArray(), embeddings[2].Vector.ToArray());
        float similarity = TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[1].Vector.Span);
        Assert.True(similarity < 0.999f, $"different texts gave nearly the same embedding (cosine {similarity})");

        var tokenizer = stories.Client.Batcher.Model.RequireTokenizer();
        long tokens = texts.Sum(t => (long)tokenizer.Encode(t, addBos: tokenizer.AddBosByDefault).Length);
        Assert.Equal(tokens, embeddings.Usage!.InputTokenCount);
        Assert.Equal(tokens, embeddings.Usage.TotalTokenCount);
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task An_embedding_is_the_batchers_embedding_of_the_text_with_BOS()
    {
        var tokenizer = stories.Client.Batcher.Model.RequireTokenizer();
        Assert.True(tokenizer.AddBosByDefault);
        var direct = await stories.Client.Batcher.EmbedAsync(tokenizer.Encode("Sam was sad.", addBos: true));
        var embedding = await Generator.GenerateAsync("Sam was sad.");
        Assert.Equal(direct, embedding.Vector.ToArray());
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public async Task Inputs_and_options_it_cannot_serve_are_refused_before_anything_runs()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Generator.GenerateAsync(["fine", ""]));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() =>
            Generator.GenerateAsync([string.Join(" ", Enumerable.Repeat("The cat sat on the mat.", 200))]));
        Assert.Contains($"context is {StoriesModel.ContextLength}", tooLong.Message);
        var dimensions = await Assert.ThrowsAsync<ArgumentException>(() =>
            Generator.GenerateAsync(["fine"], new EmbeddingGenerationOptions { Dimensions = 32 }));
        Assert.Contains("64 dimensions", dimensions.Message);
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Generator.GenerateAsync(["fine"], new EmbeddingGenerationOptions { ModelId = "text-embedding-3-small" }));
    }

    [SharedDataFact(StoriesModel.RelativePath)]
    public void GetService_gives_the_metadata_and_the_batcher()
    {
        var metadata = Generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("camelid", metadata.ProviderName);
        Assert.Equal("stories260K", metadata.DefaultModelId);
        Assert.Equal(64, metadata.DefaultModelDimensions);
        Assert.Same(stories.Client.Batcher, Generator.GetService<ContinuousBatcher>());
    }
}
