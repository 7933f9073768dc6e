using Camelid.Model;
using Camelid.Model.Adapters;
using Camelid.Training.Model;
using Camelid.Training.Model.Projections;

namespace Camelid.Training.Lora;

/// <summary>
/// LoRA fine-tuning: adapters on the targeted projections of a frozen model, initialised as PEFT does (A
/// Kaiming-uniform, i.e. U(−1/√in, 1/√in); B zeros, so training starts from the base model's function), and
/// extracted afterwards as a PEFT adapter.
/// </summary>
public static class LoraTraining
{
    /// <summary>Freezes every weight of <paramref name="frozenBase"/> and attaches fresh adapters to <paramref name="config"/>'s targets.</summary>
    public static TrainableModel Attach(TrainableModel frozenBase, LoraConfig config, long seed)
    {
        config.Validate();
        var c = frozenBase.Config;
        var matrices = new List<LoraMatrix>();
        int index = 0;
        var positions = Enumerable.Range(0, c.Layers).SelectMany(layer => config.Targets.Where(t => t != BlockMatrix.Head).Select(t => (layer, t)))
            .Concat(config.Targets.Contains(BlockMatrix.Head) ? [(-1, BlockMatrix.Head)] : []);
        foreach (var (layer, target) in positions)
        {
            var (outFeatures, inFeatures) = target.Shape(c);
            var a = new float[config.Rank * inFeatures];
            var random = new Random(unchecked((int)(seed * 1_000_003 + index++)));
            float bound = 1f / MathF.Sqrt(inFeatures);
            for (int i = 0; i < a.Length; i++)
                a[i] = (float)((random.NextDouble() * 2 - 1) * bound);
            matrices.Add(new LoraMatrix(layer, target, config.Rank, inFeatures, outFeatures, a, new float[outFeatures * config.Rank], config.Scale));
        }
        return Attach(frozenBase, new LoraAdapter(config, matrices), (float)config.Dropout);
    }

    /// <summary>Freezes <paramref name="frozenBase"/> and attaches the given adapter's matrices (copied) as trainable parameters.</summary>
    public static TrainableModel Attach(TrainableModel frozenBase, LoraAdapter adapter, float dropout)
    {
        Freeze(frozenBase);
        var byPosition = adapter.Matrices.ToDictionary(m => (m.Layer, m.Target));
        int index = 0;
        return frozenBase.WithProjections((layer, target, projection) =>
        {
            if (!byPosition.TryGetValue((layer, target), out var m))
                return projection;
            string name = target.ParameterName(layer);
            var a = new Parameter(name + ".lora_a", m.Rank, m.InFeatures, (float[])m.A.Clone()) { Trainable = true };
            var b = new Parameter(name + ".lora_b", m.OutFeatures, m.Rank, (float[])m.B.Clone()) { Trainable = true };
            return new LoraProjection(projection, a, b, m.Scale, dropout, index++);
        });
    }

    /// <summary>The adapters of a LoRA-trained model, as a PEFT adapter with <paramref name="config"/>'s settings.</summary>
    public static LoraAdapter Extract(TrainableModel model, LoraConfig config)
    {
        var matrices = new List<LoraMatrix>();
        var positions = Enumerable.Range(0, model.Layers.Length).SelectMany(layer => BlockMatrices.All.Select(t => (layer, t, model.Layers[layer][t])))
            .Append((-1, BlockMatrix.Head, model.Head));
        foreach (var (layer, target, projection) in positions)
            if (projection is LoraProjection lora)
                matrices.Add(new LoraMatrix(layer, target, lora.Rank, lora.InFeatures, lora.OutFeatures,
                    (float[])lora.A.Value.Clone(), (float[])lora.B.Value.Clone(), lora.Scale));
        if (matrices.Count == 0)
            throw new ArgumentException("the model has no LoRA adapters");
        return new LoraAdapter(config with { Targets = matrices.Select(m => m.Target).Distinct().Order().ToList() }, matrices);
    }

    static void Freeze(TrainableModel model)
    {
        model.TokenEmbedding.Trainable = false;
        model.OutputNorm.Trainable = false;
        foreach (var block in model.Layers)
        {
            block.AttentionNorm.Trainable = false;
            block.FfnNorm.Trainable = false;
        }
        foreach (var projection in model.Layers.SelectMany(b => b.Projections).Append(model.Head))
        {
            if (projection is DenseProjection dense)
                dense.Weight.Trainable = false;
            else if (projection.TrainableParameters.Any())
                throw new ArgumentException($"{projection.Name} is already trainable ({projection.Kind}); attach LoRA to a plain model");
        }
    }
}
