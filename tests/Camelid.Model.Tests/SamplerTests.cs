using Camelid.Inference.Sampling;

namespace Camelid.Model.Tests;

/// <summary>Each sampler stage on tiny vectors whose results are computed by hand in the comments.</summary>
public class SamplerTests
{
    const float Tol = 1e-5f;

    static SamplingOptions Only(float temperature = 1, int topK = 0, float topP = 1, float minP = 0) =>
        new() { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = 1, Seed = 1 };

    static (int Id, float P)[] Distribution(SamplingOptions o, float[] logits, params int[] history) =>
        new Sampler(o).Distribution(logits, history).ToArray().Select(c => (c.Id, c.Probability)).ToArray();

    static void AssertDistribution((int Id, float P)[] actual, params (int Id, double P)[] expected)
    {
        Assert.Equal(expected.Select(e => e.Id), actual.Select(a => a.Id));
        for (int i = 0; i < expected.Length; i++)
            Assert.InRange(actual[i].P, expected[i].P - Tol, expected[i].P + Tol);
    }

    [Fact]
    public void Greedy_picks_the_largest_logit_and_the_first_on_ties()
    {
        Assert.Equal(1, new Sampler(SamplingOptions.Greedy).Sample(new float[] { 1, 3, 2 }, []));
        Assert.Equal(0, new Sampler(SamplingOptions.Greedy).Sample(new float[] { 5, 5, 2 }, []));
    }

    [Fact]
    public void Temperature_one_is_the_softmax_of_the_logits()
    {
        // softmax(1, 2, 3) = e^(x-3) / (e^-2 + e^-1 + 1) = 0.66524, 0.24473, 0.09003
        AssertDistribution(Distribution(Only(), [1, 2, 3]), (2, 0.665241), (1, 0.244728), (0, 0.090031));
    }

    [Fact]
    public void Temperature_divides_the_logits()
    {
        // T = 0.5: softmax(2, 4, 6) = 0.86681, 0.11731, 0.01588
        AssertDistribution(Distribution(Only(temperature: 0.5f), [1, 2, 3]), (2, 0.866813), (1, 0.117310), (0, 0.015876));
    }

    [Fact]
    public void Top_k_keeps_the_k_most_likely()
    {
        // k = 2 of (1, 2, 3, 0): ids 2 and 1, renormalised softmax(3, 2) = 0.73106, 0.26894
        AssertDistribution(Distribution(Only(topK: 2), [1, 2, 3, 0]), (2, 0.731059), (1, 0.268941));
    }

    [Fact]
    public void Top_k_selection_matches_a_full_sort_on_a_large_vocabulary()
    {
        var random = new Random(3);
        var logits = Enumerable.Range(0, 5000).Select(_ => (float)random.NextDouble() * 10).ToArray();
        var expected = logits.Select((l, i) => (l, i)).OrderByDescending(x => x.l).Take(40).Select(x => x.i);
        Assert.Equal(expected, Distribution(Only(topK: 40), logits).Select(c => c.Id));
    }

    [Fact]
    public void Top_k_with_ties_keeps_the_lower_ids_as_a_stable_full_sort_does()
    {
        // Logits 0..20 over 5000 tokens: about 240 tokens share each value, so the 40th place is a tie.
        var random = new Random(5);
        var logits = Enumerable.Range(0, 5000).Select(_ => (float)random.Next(21)).ToArray();
        var expected = logits.Select((l, i) => (l, i)).OrderByDescending(x => x.l).ThenBy(x => x.i).Take(40).Select(x => x.i);
        Assert.Equal(expected, Distribution(Only(topK: 40), logits).Select(c => c.Id));
    }

    [Fact]
    public void Top_k_counts_NaN_as_the_lowest_logit()
    {
        // Ids 10..19 lead with 5, the rest tie at 1 except two NaN: k = 13 takes 10..19, then ids 1, 2, 3 (id 0 is NaN).
        var logits = Enumerable.Repeat(1f, 100).ToArray();
        for (int i = 10; i < 20; i++)
            logits[i] = 5;
        logits[0] = logits[50] = float.NaN;
        Assert.Equal([.. Enumerable.Range(10, 10), 1, 2, 3], Distribution(Only(topK: 13), logits).Select(c => c.Id));
    }

    static float[] LogitsOf(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p()
    {
        // 0.5 + 0.3 = 0.8 >= 0.7: keep two, renormalised 0.625 / 0.375
        AssertDistribution(Distribution(Only(topP: 0.7f), LogitsOf(0.5, 0.3, 0.15, 0.05)), (0, 0.625), (1, 0.375));
        // p = 0.5 is reached by the first token alone
        AssertDistribution(Distribution(Only(topP: 0.5f), LogitsOf(0.5, 0.3, 0.15, 0.05)), (0, 1.0));
    }

    [Fact]
    public void Min_p_drops_tokens_below_a_fraction_of_the_best()
    {
        // threshold 0.4 * 0.5 = 0.2: keeps 0.5 and 0.3
        AssertDistribution(Distribution(Only(minP: 0.4f), LogitsOf(0.5, 0.3, 0.15, 0.05)), (0, 0.625), (1, 0.375));
        // threshold 0.25 * 0.5 = 0.125: keeps 0.5, 0.3, 0.15 -> / 0.95
        AssertDistribution(Distribution(Only(minP: 0.25f), LogitsOf(0.5, 0.3, 0.15, 0.05)), (0, 0.5 / 0.95), (1, 0.3 / 0.95), (2, 0.15 / 0.95));
    }

    [Fact]
    public void Repeat_penalty_divides_positive_and_multiplies_negative_logits_of_recent_tokens()
    {
        var sampler = new Sampler(new SamplingOptions { RepeatPenalty = 2, RepeatLastN = 64 });
        float[] logits = [2, -1, 0.5f];
        sampler.ApplyPenalties(logits, [0, 1, 1]);
        Assert.Equal([1f, -2f, 0.5f], logits);
    }

    [Fact]
    public void Presence_and_frequency_penalties_subtract_once_and_per_occurrence()
    {
        var sampler = new Sampler(new SamplingOptions { PresencePenalty = 0.5f, FrequencyPenalty = 0.25f, RepeatLastN = 64 });
        float[] logits = [1, 1, 1];
        sampler.ApplyPenalties(logits, [0, 0, 1]);
        // id 0: 1 - (2·0.25 + 0.5) = 0; id 1: 1 - (0.25 + 0.5) = 0.25; id 2 unseen
        Assert.Equal([0f, 0.25f, 1f], logits);
    }

    [Fact]
    public void Penalties_only_look_at_the_last_n_tokens()
    {
        var sampler = new Sampler(new SamplingOptions { RepeatPenalty = 2, RepeatLastN = 1 });
        float[] logits = [2, 2, 2];
        sampler.ApplyPenalties(logits, [0, 1]);
        Assert.Equal([2f, 1f, 2f], logits);
    }

    [Fact]
    public void Penalties_change_the_greedy_choice()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 0, RepeatPenalty = 3, RepeatLastN = 8 });
        Assert.Equal(1, sampler.Sample(new float[] { 3, 2, 0 }, [0]));
    }

    [Fact]
    public void A_fixed_seed_reproduces_the_draws_and_draws_follow_the_distribution()
    {
        var options = Only() with { Seed = 42 };
        float[] logits = LogitsOf(0.6, 0.3, 0.1);
        int[] Draws(int n)
        {
            var s = new Sampler(options);
            return Enumerable.Range(0, n).Select(_ => s.Sample((float[])logits.Clone(), [])).ToArray();
        }
        var first = Draws(20000);
        Assert.Equal(first, Draws(20000));
        var other = new Sampler(options with { Seed = 43 });
        Assert.NotEqual(first.Take(50), Enumerable.Range(0, 50).Select(_ => other.Sample((float[])logits.Clone(), [])));
        // 20000 draws: standard deviation of a frequency is at most 0.0035, so 0.015 is > 4 sigma.
        for (int id = 0; id < 3; id++)
            Assert.InRange(first.Count(x => x == id) / 20000.0, new[] { 0.6, 0.3, 0.1 }[id] - 0.015, new[] { 0.6, 0.3, 0.1 }[id] + 0.015);
    }

    [Fact]
    public void Invalid_options_are_rejected_with_a_message()
    {
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { Temperature = -1 })).Message);
        Assert.Contains("top-p", Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { TopP = 0 })).Message);
        Assert.Contains("min-p", Assert.Throws<ArgumentException>(() => new Sampler(new SamplingOptions { MinP = 2 })).Message);
    }
}
