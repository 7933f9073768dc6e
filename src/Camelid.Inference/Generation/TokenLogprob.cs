using System.Text;
using Camelid.Tokenization;

namespace Camelid.Inference.Generation;

/// <summary>A token with its log-probability under the model (before penalties and temperature).</summary>
public sealed record TokenAlternative(int TokenId, string Text, byte[] Bytes, float Logprob);

/// <summary>The chosen token's log-probability and the most likely alternatives at that position, as OpenAI reports them.</summary>
public sealed record TokenLogprob(int TokenId, string Text, byte[] Bytes, float Logprob, IReadOnlyList<TokenAlternative> Top)
{
    public static TokenLogprob Of(Tokenizer tokenizer, ReadOnlySpan<float> logits, int chosen, int top)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits)
            if (l > max) max = l;
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        float logZ = max + (float)Math.Log(sum);

        var best = new List<TokenAlternative>(top);
        if (top > 0)
        {
            // Partial selection: keep the `top` largest logits, ties to the lower id.
            var ids = new PriorityQueue<int, (float, int)>(top + 1);
            for (int i = 0; i < logits.Length; i++)
            {
                ids.Enqueue(i, (logits[i], -i));
                if (ids.Count > top)
                    ids.Dequeue();
            }
            while (ids.TryDequeue(out int id, out _))
                best.Add(Alternative(tokenizer, id, logits[id] - logZ));
            best.Reverse();
        }
        var c = Alternative(tokenizer, chosen, logits[chosen] - logZ);
        return new TokenLogprob(chosen, c.Text, c.Bytes, c.Logprob, best);
    }

    static TokenAlternative Alternative(Tokenizer tokenizer, int id, float logprob)
    {
        var bytes = tokenizer.TokenBytes(id);
        return new TokenAlternative(id, Encoding.UTF8.GetString(bytes), bytes, logprob);
    }
}
