using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Camelid.Tensors.Threading;
using Camelid.Training.Model;
using static Camelid.Tensors.Training.Differentiable;

namespace Camelid.TrainingBenchmarks;

/// <summary>One kernel's share of a training step: <see cref="CallsPerStep"/> calls of <see cref="MillisecondsPerCall"/>.</summary>
sealed record ProfileRow(string Phase, string Kernel, string Category, int CallsPerStep, double MillisecondsPerCall, double? Gflops)
{
    public double MillisecondsPerStep => CallsPerStep * MillisecondsPerCall;
}

/// <summary>
/// Where a step's forward and backward time goes: replays the kernels of TrainingTransformer's forward and
/// backward pass for layer 0, the embedding and the output head, on the benchmark's own weights and a batch of
/// the same shape, with a clock around each call (the second of two replays over the same buffers, so pages, JIT and scratch are warm).
/// A block's kernels count once per layer, its forward twice with gradient checkpointing (the recomputation).
/// The replay follows the engine's call sequence by hand; its total next to the measured forward+backward
/// shows whether it still does. GFLOP/s are model FLOPs (<see cref="ModelCost"/>'s counting).
/// </summary>
sealed class KernelProfile
{
    const int HeadChunkRows = 256; // TrainingTransformer materialises the logits of this many rows at a time

    readonly List<(string Phase, string Kernel, string Category, double Flops, double Seconds)> _rows = [];

    public static IReadOnlyList<ProfileRow> Measure(LlamaParameters parameters, TokenBatch batch, ComputePool pool, bool checkpointing)
    {
        var profile = new KernelProfile();
        profile.Replay(parameters, batch, pool);
        int layers = parameters.Config.Layers;
        return profile._rows.Select(r =>
        {
            int calls = r.Phase switch
            {
                "block forward" => checkpointing ? 2 * layers : layers,
                "block backward" => layers,
                _ => 1,
            };
            return new ProfileRow(r.Phase, r.Kernel, r.Category, calls, 1000 * r.Seconds, r.Flops > 0 ? r.Flops / r.Seconds / 1e9 : null);
        }).ToList();
    }

    void Time(string phase, string kernel, string category, double flops, Action kernelCall)
    {
        long start = Stopwatch.GetTimestamp();
        kernelCall();
        double seconds = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        int index = _rows.FindIndex(r => r.Phase == phase && r.Kernel == kernel);
        if (index < 0)
            _rows.Add((phase, kernel, category, flops, seconds));
        else
            _rows[index] = _rows[index] with { Flops = _rows[index].Flops + flops, Seconds = _rows[index].Seconds + seconds };
    }

    void Replay(LlamaParameters parameters, TokenBatch batch, ComputePool pool)
    {
        var c = parameters.Config;
        var p = parameters.Layers[0];
        int T = batch.Tokens, dim = c.Dim, kvDim = c.KvDim, hidden = c.HiddenDim, vocab = c.VocabSize;
        var shape = new AttentionShape(batch.Rows, batch.Length, c.Heads, c.KvHeads, c.HeadSize);
        var (cos, sin) = RotaryTable(batch.Length, c.RopeInverseFrequencies());
        double attentionForwardFlops = 2.0 * dim * batch.Rows * batch.Length * (batch.Length + 1); // Σ_t 2·2·dim·(t+1)

        float[] x = new float[T * dim], normed = new float[T * dim], rstd = new float[T];           // (T, dim), (T)
        float[] q = new float[T * dim], k = new float[T * kvDim], v = new float[T * kvDim];         // (T, dim), (T, kvDim)
        float[] attention = new float[T * dim], lse = new float[batch.Rows * c.Heads * batch.Length];
        float[] delta = new float[T * dim], middle = new float[T * dim], ffnNormed = new float[T * dim], ffnRstd = new float[T];
        float[] gate = new float[T * hidden], up = new float[T * hidden], hiddenActivation = new float[T * hidden]; // (T, hidden)
        float[] output = new float[T * dim];
        float[] dx = new float[T * dim], dNormed = new float[T * dim], dAttention = new float[T * dim];
        float[] dq = new float[T * dim], dk = new float[T * kvDim], dv = new float[T * kvDim];
        float[] dHidden = new float[T * hidden], dGate = new float[T * hidden], dUp = new float[T * hidden];
        float[] logits = new float[Math.Min(T, HeadChunkRows) * vocab];                             // (chunk rows, vocab)

        const string forward = "block forward", backward = "block backward", head = "head", embedding = "embedding";
        const string matmul = "matmul", attend = "attention", elementwise = "elementwise", crossEntropy = "cross-entropy";
        var final = normed; // reused: the block forward is done with it until the backward pass, which refills it
        var finalRstd = new float[T];
        var outputHead = parameters.OutputHead;
        // The first pass touches every buffer's pages and warms the JIT and the kernels' scratch; the second is kept.
        for (int pass = 0; pass < 2; pass++)
        {
            _rows.Clear();
            Time(embedding, "embedding lookup", elementwise, 0, () => EmbeddingForward(x, batch.Inputs, parameters.TokenEmbedding.Value, dim));

            Time(forward, "attention RMSNorm", elementwise, 0, () => RmsNormForward(normed, rstd, x, p.AttentionNorm.Value, T, dim, c.RmsNormEps));
            Time(forward, "Wq", matmul, 2.0 * T * dim * dim, () => LinearForward(q, normed, p.Wq.Value, T, dim, dim, pool));
            Time(forward, "Wk", matmul, 2.0 * T * dim * kvDim, () => LinearForward(k, normed, p.Wk.Value, T, dim, kvDim, pool));
            Time(forward, "Wv", matmul, 2.0 * T * dim * kvDim, () => LinearForward(v, normed, p.Wv.Value, T, dim, kvDim, pool));
            Time(forward, "RoPE", elementwise, 0, () =>
            {
                RotaryForward(q, T, batch.Length, c.Heads, c.HeadSize, cos, sin);
                RotaryForward(k, T, batch.Length, c.KvHeads, c.HeadSize, cos, sin);
            });
            Time(forward, "causal attention", attend, attentionForwardFlops, () => AttentionForward(attention, lse, q, k, v, shape, pool));
            Time(forward, "Wo", matmul, 2.0 * T * dim * dim, () => LinearForward(delta, attention, p.Wo.Value, T, dim, dim, pool));
            Time(forward, "residual add", elementwise, 0, () => TensorPrimitives.Add(x.AsSpan(0, T * dim), delta.AsSpan(0, T * dim), middle.AsSpan(0, T * dim)));
            Time(forward, "FFN RMSNorm", elementwise, 0, () => RmsNormForward(ffnNormed, ffnRstd, middle, p.FfnNorm.Value, T, dim, c.RmsNormEps));
            Time(forward, "W1 gate", matmul, 2.0 * T * dim * hidden, () => LinearForward(gate, ffnNormed, p.W1.Value, T, dim, hidden, pool));
            Time(forward, "W3 up", matmul, 2.0 * T * dim * hidden, () => LinearForward(up, ffnNormed, p.W3.Value, T, dim, hidden, pool));
            Time(forward, "SwiGLU", elementwise, 0, () => SwiGluForward(hiddenActivation, gate, up));
            Time(forward, "W2 down", matmul, 2.0 * T * hidden * dim, () => LinearForward(delta, hiddenActivation, p.W2.Value, T, hidden, dim, pool));
            Time(forward, "residual add", elementwise, 0, () => TensorPrimitives.Add(middle.AsSpan(0, T * dim), delta.AsSpan(0, T * dim), output.AsSpan(0, T * dim)));

            // The head reads the block's output as if it were the last one; the values only have to be realistic.
            Time(head, "final RMSNorm", elementwise, 0, () => RmsNormForward(final, finalRstd, output, parameters.OutputNorm.Value, T, dim, c.RmsNormEps));
            for (int row = 0; row < T; row += HeadChunkRows)
            {
                int rows = Math.Min(HeadChunkRows, T - row), first = row;
                Time(head, "output head forward", matmul, 2.0 * rows * dim * vocab,
                    () => LinearForward(logits.AsSpan(0, rows * vocab), final.AsSpan(first * dim, rows * dim), outputHead.Value, rows, dim, vocab, pool));
                Time(head, "softmax cross-entropy", crossEntropy, 0,
                    () => CrossEntropyForwardBackward(logits.AsSpan(0, rows * vocab), batch.Targets.AsSpan(first, rows), vocab, 1f / T));
                Time(head, "output head backward", matmul, 4.0 * rows * dim * vocab,
                    () => LinearBackward(dNormed.AsSpan(first * dim, rows * dim), outputHead.Gradient, logits.AsSpan(0, rows * vocab), final.AsSpan(first * dim, rows * dim),
                        outputHead.Value, rows, dim, vocab, pool));
            }
            Time(head, "final RMSNorm", elementwise, 0, () =>
            {
                Array.Clear(dx);
                RmsNormBackward(dx, parameters.OutputNorm.Gradient, dNormed, finalRstd, output, parameters.OutputNorm.Value, T, dim);
            });
            RmsNormForward(normed, rstd, x, p.AttentionNorm.Value, T, dim, c.RmsNormEps); // restore the block's saved activation

            Time(backward, "W2 down", matmul, 4.0 * T * hidden * dim, () => LinearBackward(dHidden, p.W2.Gradient, dx, hiddenActivation, p.W2.Value, T, hidden, dim, pool));
            Time(backward, "SwiGLU", elementwise, 0, () => SwiGluBackward(dGate, dUp, dHidden, gate, up));
            Time(backward, "W1 gate", matmul, 4.0 * T * dim * hidden, () => LinearBackward(dNormed, p.W1.Gradient, dGate, ffnNormed, p.W1.Value, T, dim, hidden, pool));
            Time(backward, "W3 up", matmul, 4.0 * T * dim * hidden,
                () => LinearBackward(dNormed, p.W3.Gradient, dUp, ffnNormed, p.W3.Value, T, dim, hidden, pool, accumulateInput: true));
            Time(backward, "FFN RMSNorm", elementwise, 0, () => RmsNormBackward(dx, p.FfnNorm.Gradient, dNormed, ffnRstd, middle, p.FfnNorm.Value, T, dim));
            Time(backward, "Wo", matmul, 4.0 * T * dim * dim, () => LinearBackward(dAttention, p.Wo.Gradient, dx, attention, p.Wo.Value, T, dim, dim, pool));
            Time(backward, "causal attention", attend, 2 * attentionForwardFlops, () => AttentionBackward(dq, dk, dv, dAttention, attention, lse, q, k, v, shape, pool));
            Time(backward, "RoPE", elementwise, 0, () =>
            {
                RotaryBackward(dq, T, batch.Length, c.Heads, c.HeadSize, cos, sin);
                RotaryBackward(dk, T, batch.Length, c.KvHeads, c.HeadSize, cos, sin);
            });
            Time(backward, "Wq", matmul, 4.0 * T * dim * dim, () => LinearBackward(dNormed, p.Wq.Gradient, dq, normed, p.Wq.Value, T, dim, dim, pool));
            Time(backward, "Wk", matmul, 4.0 * T * dim * kvDim, () => LinearBackward(dNormed, p.Wk.Gradient, dk, normed, p.Wk.Value, T, dim, kvDim, pool, accumulateInput: true));
            Time(backward, "Wv", matmul, 4.0 * T * dim * kvDim, () => LinearBackward(dNormed, p.Wv.Gradient, dv, normed, p.Wv.Value, T, dim, kvDim, pool, accumulateInput: true));
            Time(backward, "attention RMSNorm", elementwise, 0, () => RmsNormBackward(dx, p.AttentionNorm.Gradient, dNormed, rstd, x, p.AttentionNorm.Value, T, dim));

            Time(embedding, "embedding gradient", elementwise, 0, () => EmbeddingBackward(parameters.TokenEmbedding.Gradient, batch.Inputs, dx, dim));
        }
    }

    public static void WriteTable(TextWriter output, IReadOnlyList<ProfileRow> rows, double measuredForwardBackwardSeconds)
    {
        var culture = CultureInfo.InvariantCulture;
        double total = rows.Sum(r => r.MillisecondsPerStep);
        output.WriteLine();
        output.WriteLine("Kernel profile (layer 0 replayed kernel by kernel, scaled to the whole step):");
        output.WriteLine();
        output.WriteLine("| phase | kernel | calls per step | ms per call | ms per step | share | GFLOP/s |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            output.WriteLine(string.Create(culture,
                $"| {r.Phase} | {r.Kernel} | {r.CallsPerStep} | {r.MillisecondsPerCall:F2} | {r.MillisecondsPerStep:F1} | {r.MillisecondsPerStep / total:P1} | {(r.Gflops is double g ? g.ToString("F1", culture) : "")} |"));
        output.WriteLine();
        output.WriteLine("| category | ms per step | share |");
        output.WriteLine("|---|---:|---:|");
        foreach (var group in rows.GroupBy(r => r.Category).OrderByDescending(g => g.Sum(r => r.MillisecondsPerStep)))
        {
            double ms = group.Sum(r => r.MillisecondsPerStep);
            output.WriteLine(string.Create(culture, $"| {group.Key} | {ms:F1} | {ms / total:P1} |"));
        }
        output.WriteLine(string.Create(culture, $"| replay total | {total:F1} | measured forward+backward {1000 * measuredForwardBackwardSeconds:F1} ms |"));
    }
}
