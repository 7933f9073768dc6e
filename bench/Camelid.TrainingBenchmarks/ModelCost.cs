using Camelid.Model;

namespace Camelid.TrainingBenchmarks;

/// <summary>
/// Arithmetic of one trained token, counted the usual way for model-FLOPs utilisation (Kaplan et al. 2020;
/// PaLM's appendix B): 6 FLOPs per matrix weight (2 forward, 4 backward) plus causal attention, whose
/// scores and weighted sum cost 2·dim per earlier position forward, seq/2 positions on average, times 3 for
/// the backward pass. Recomputation (gradient checkpointing) is work the model does not count.
/// </summary>
sealed class ModelCost(LlamaConfig c, int seq)
{
    /// <summary>Weights that multiply activations: the blocks' projections and the output head (the embedding is a lookup).</summary>
    public long MatrixWeights => (long)c.Layers * (2L * c.Dim * c.Dim + 2L * c.Dim * c.KvDim + 3L * c.Dim * c.HiddenDim) + (long)c.VocabSize * c.Dim;

    public double FlopsPerToken => 6.0 * MatrixWeights + 6.0 * c.Layers * c.Dim * seq;
}
