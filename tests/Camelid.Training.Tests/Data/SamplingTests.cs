using System.Text.Json;
using Camelid.Data.Formats;
using Camelid.Tests;
using Camelid.Training.Data;
using Camelid.Training.Model;
using static Camelid.Training.Tests.Data.DataTestTokenizers;

namespace Camelid.Training.Tests.Data;

/// <summary>Validation split, packing, per-epoch shuffles and resuming a sampler from a saved position.</summary>
public sealed class SamplingTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();
    readonly string _source;

    public SamplingTests()
    {
        // 300 Alpaca examples of 20 to ~90 tokens.
        _source = Path.Combine(_dir, "data.jsonl");
        DataFile.Write(_source, Enumerable.Range(0, 300).Select(i =>
            new AlpacaRecord($"Count to {i % 17}.", "", string.Join(" ", Enumerable.Range(0, i % 17 * 3).Select(k => (k % 10).ToString())))));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    TrainingData Prepare(TrainingDataOptions options) =>
        TrainingData.Prepare([new DataSource(_source)], Synthetic, options, Path.Combine(_dir, "train.tokens"));

    [Fact]
    public void The_validation_split_is_disjoint_complete_and_fixed_by_the_seed()
    {
        var (train, validation) = TrainingData.Split(1000, 0.01, seed: 1);
        Assert.Equal(10, validation.Length);
        Assert.Equal(990, train.Length);
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(Enumerable.Range(0, 1000), train.Concat(validation).Order());
        Assert.Equal(validation.Order(), validation); // the validation pass reads them in a fixed order
        Assert.Equal(validation, TrainingData.Split(1000, 0.01, seed: 1).Validation);
        Assert.NotEqual(validation, TrainingData.Split(1000, 0.01, seed: 2).Validation);

        Assert.Single(TrainingData.Split(1000, 0.0001, seed: 1).Validation); // at least one when asked for any
        Assert.Single(TrainingData.Split(2, 0.5, seed: 1).Validation);
        Assert.Single(TrainingData.Split(2, 0.9, seed: 1).Train);             // never all of them
        Assert.Empty(TrainingData.Split(1, 0.5, seed: 1).Validation);         // one example: nothing to hold out
        Assert.Empty(TrainingData.Split(1000, 0, seed: 1).Validation);

        using var data = Prepare(new TrainingDataOptions { MaxLength = 128, ValidationFraction = 0.05, Seed = 3 });
        Assert.Equal((285, 15), (data.Train.Count, data.Validation.Count));
        Assert.Equal((285, 15), (data.Report.TrainSequences, data.Report.ValidationSequences));
        var trainExamples = Enumerable.Range(0, data.Train.Count).Select(i => data.Train.Examples(i)[0]).ToHashSet();
        var validationExamples = Enumerable.Range(0, data.Validation.Count).Select(i => data.Validation.Examples(i)[0]).ToList();
        Assert.Equal(TrainingData.Split(300, 0.05, seed: 3).Validation, validationExamples);
        Assert.Empty(trainExamples.Intersect(validationExamples));
    }

    [Fact]
    public void Packing_fills_sequences_greedily_and_keeps_every_example_and_its_mask()
    {
        const int maxLength = 512;
        using var single = Prepare(new TrainingDataOptions { MaxLength = maxLength });
        var examples = Enumerable.Range(0, single.Train.Count).Select(i => single.Train[i]).ToList();
        single.Dispose();
        using var packed = Prepare(new TrainingDataOptions { MaxLength = maxLength, Pack = true, Seed = 11 });

        Assert.True(packed.Train.Count < examples.Count / 2, $"{packed.Train.Count} sequences for {examples.Count} examples");
        Assert.True(packed.Report.Packed);
        var seen = new List<int>();
        for (int s = 0; s < packed.Train.Count; s++)
        {
            var members = packed.Train.Examples(s).ToArray();
            var (tokens, trained) = packed.Train[s];
            Assert.True(tokens.Length <= maxLength + 1);
            Assert.Equal(members.SelectMany(m => examples[m].Tokens), tokens);
            Assert.Equal(members.SelectMany(m => examples[m].Trained), trained);
            Assert.Equal(members.Length, tokens.Count(t => t == Synthetic.BosId)); // each example keeps its BOS …
            Assert.All(Enumerable.Range(0, tokens.Length).Where(i => tokens[i] == Synthetic.BosId), i => Assert.False(trained[i])); // … never a target
            if (s + 1 < packed.Train.Count)
                Assert.True(tokens.Length + examples[packed.Train.Examples(s + 1)[0]].Tokens.Length > maxLength + 1, $"sequence {s} had room for the next example");
            seen.AddRange(members);
        }
        Assert.Equal(Enumerable.Range(0, examples.Count), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, examples.Count), seen); // packed in shuffled order

        using var again = Prepare(new TrainingDataOptions { MaxLength = maxLength, Pack = true, Seed = 11 });
        Assert.Equal(seen, Enumerable.Range(0, again.Train.Count).SelectMany(s => again.Train.Examples(s).ToArray()));
    }

    [Fact]
    public void Each_epoch_is_a_permutation_fixed_by_seed_and_epoch()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128 });
        var sampler = new BatchSampler(data.Train, microBatch: 8, seed: 42);
        var epoch0 = sampler.EpochOrder(0);
        Assert.Equal(Enumerable.Range(0, data.Train.Count), epoch0.Order());
        Assert.NotEqual(Enumerable.Range(0, data.Train.Count), epoch0);
        Assert.Equal(epoch0, new BatchSampler(data.Train, microBatch: 3, seed: 42).EpochOrder(0));
        Assert.NotEqual(epoch0, sampler.EpochOrder(1));
        Assert.NotEqual(epoch0, new BatchSampler(data.Train, microBatch: 8, seed: 43).EpochOrder(0));
    }

    [Fact]
    public void Batches_follow_the_epoch_order_and_an_epoch_ends_with_a_short_batch()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128 });
        var sampler = new BatchSampler(data.Train, microBatch: 7, seed: 5);
        Assert.Equal(43, sampler.BatchesPerEpoch); // 300 = 42 × 7 + 6
        var order = sampler.EpochOrder(0);
        for (int b = 0; b < 43; b++)
        {
            Assert.Equal(new DataPosition(0, 7 * b), sampler.Position);
            var batch = sampler.Next();
            var rows = order.Skip(7 * b).Take(7).Select(i => data.Train[i]).ToList();
            var expected = TokenBatch.FromSequences(rows, Synthetic.EosId);
            Assert.Equal(b < 42 ? 7 : 6, batch.Rows);
            Assert.Equal(expected.Inputs, batch.Inputs);
            Assert.Equal(expected.Targets, batch.Targets);
        }
        Assert.Equal(new DataPosition(1, 0), sampler.Position);
        Assert.Equal(Synthetic.EosId, data.PadToken);
    }

    [Fact]
    public void A_sampler_resumed_from_a_saved_position_yields_the_batches_of_an_uninterrupted_run()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128, ValidationFraction = 0.1, Pack = true, Seed = 9 });
        var uninterrupted = new BatchSampler(data.Train, microBatch: 4, seed: 9);
        int perEpoch = uninterrupted.BatchesPerEpoch;
        var reference = Enumerable.Range(0, 2 * perEpoch + 3).Select(_ => uninterrupted.Next()).ToList();

        foreach (int stopAfter in new[] { 1, perEpoch - 1, perEpoch, perEpoch + 2 })
        {
            var first = new BatchSampler(data.Train, microBatch: 4, seed: 9);
            for (int b = 0; b < stopAfter; b++)
                first.Next();
            string saved = JsonSerializer.Serialize(first.Position);

            var resumed = new BatchSampler(data.Train, microBatch: 4, seed: 9, JsonSerializer.Deserialize<DataPosition>(saved));
            for (int b = stopAfter; b < reference.Count; b++)
            {
                var batch = resumed.Next();
                Assert.Equal(reference[b].Inputs, batch.Inputs);
                Assert.Equal(reference[b].Targets, batch.Targets);
            }
        }
    }

    [Fact]
    public void The_validation_pass_reads_every_held_out_sequence_once_in_index_order()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128, ValidationFraction = 0.1, Seed = 2 });
        var batches = data.Validation.InOrder(4).ToList();
        Assert.Equal(8, batches.Count); // 30 sequences
        Assert.Equal(2, batches[^1].Rows);
        var expected = Enumerable.Range(0, data.Validation.Count).Chunk(4)
            .Select(chunk => TokenBatch.FromSequences(chunk.Select(i => data.Validation[i]).ToList(), data.PadToken)).ToList();
        Assert.Equal(expected.Select(b => b.Inputs), batches.Select(b => b.Inputs));
        Assert.Equal(expected.Select(b => b.Targets), batches.Select(b => b.Targets));
        Assert.Equal(expected.Select(b => b.Inputs), data.Validation.InOrder(4).Select(b => b.Inputs)); // the same every time
    }

    [Fact]
    public void A_batch_takes_its_targets_only_where_the_mask_says_and_pads_with_EOS()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128 });
        var batch = data.Train.Batch([0, 16]); // "Count to 0." (output "") and "Count to 16." (48 digits)
        var (shortTokens, shortTrained) = data.Train[0];
        Assert.Equal(data.Train[16].Tokens.Length - 1, batch.Length);
        for (int t = 0; t < batch.Length; t++)
        {
            int expectedTarget = t + 1 < shortTokens.Length && shortTrained[t + 1] ? shortTokens[t + 1] : TokenBatch.Ignored;
            Assert.Equal(expectedTarget, batch.Targets[t]);
            Assert.Equal(t + 1 < shortTokens.Length ? shortTokens[t] : Synthetic.EosId, batch.Inputs[t]);
        }
        Assert.Equal([Synthetic.EosId], batch.Targets.Take(batch.Length).Where(t => t != TokenBatch.Ignored)); // empty output: only EOS is learned
    }

    [Fact]
    public void A_position_outside_the_data_is_refused()
    {
        using var data = Prepare(new TrainingDataOptions { MaxLength = 128 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchSampler(data.Train, 4, 0, new DataPosition(0, 301)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchSampler(data.Train, 4, 0, new DataPosition(-1, 0)));
        Assert.Equal(new DataPosition(3, 0), new BatchSampler(data.Train, 4, 0, new DataPosition(2, 300)).Position);
    }
}
