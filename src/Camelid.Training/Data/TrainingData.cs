using Camelid.Data.Instructions;
using Camelid.Tokenization;

namespace Camelid.Training.Data;

/// <summary>
/// The prepared data of a run: the token cache, split into training and validation sequences (packed or one per
/// example). Seeded choices each draw from their own stream of a <see cref="DeterministicRandom"/>, so changing one
/// (e.g. the number of epochs) never changes another.
/// </summary>
public sealed class TrainingData : IDisposable
{
    internal const int ValidationStream = 1;
    internal const int PackingStream = 2;
    internal const int EpochStream = 3;

    readonly TokenCache _cache;

    TrainingData(TokenCache cache, TrainingDataOptions options)
    {
        _cache = cache;
        Options = options;
        var (train, validation) = Split(cache.Count, options.ValidationFraction, options.Seed);
        Train = new SequenceSet(cache, options.Pack ? Pack(cache, Shuffled(train, options.Seed, PackingStream, 0), options.MaxLength) : Singles(train));
        Validation = new SequenceSet(cache, options.Pack ? Pack(cache, validation, options.MaxLength) : Singles(validation));
        Report = cache.Metadata.Report with
        {
            Packed = options.Pack,
            TrainSequences = Train.Count,
            ValidationSequences = Validation.Count,
        };
    }

    public TrainingDataOptions Options { get; }
    public DataReport Report { get; }
    public SequenceSet Train { get; }
    /// <summary>Held-out sequences, in a fixed order (by example index).</summary>
    public SequenceSet Validation { get; }
    /// <summary>Fills the unused positions of a batch's shorter rows: the tokenizer's EOS, or 0 when it has none.</summary>
    public int PadToken => _cache.PadToken;
    public string CachePath => _cache.Path;

    /// <summary>
    /// Tokenizes the sources into <paramref name="cachePath"/> (e.g. <c>RUN/data/train.tokens</c>) and opens it. A
    /// cache already there that was built from the same sources (same files, sizes and times), tokenizer, template and
    /// options is reused without reading the sources again; any other is rebuilt (<paramref name="rebuild"/> forces it).
    /// </summary>
    /// <exception cref="InvalidExampleException">An example cannot be rendered and <see cref="TrainingDataOptions.SkipInvalid"/> is off.</exception>
    /// <exception cref="IOException">A source is missing or is not valid data of its format.</exception>
    public static TrainingData Prepare(IReadOnlyList<DataSource> sources, Tokenizer tokenizer, TrainingDataOptions options,
                                       string cachePath, bool rebuild = false, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options.Validate();
        if (sources.Count == 0)
            throw new ArgumentException("no training data sources given");
        string fingerprint = TrainingDataBuilder.Fingerprint(sources, tokenizer, options);
        if (!rebuild && File.Exists(cachePath))
        {
            try
            {
                var existing = TokenCache.Open(cachePath);
                if (existing.Metadata.Fingerprint == fingerprint)
                    return Open(existing, options);
                existing.Dispose();
            }
            catch (InvalidDataException)
            {
                // A damaged or older cache is simply rebuilt.
            }
        }
        TrainingDataBuilder.Build(sources, tokenizer, options, cachePath, fingerprint, cancellation);
        return Open(TokenCache.Open(cachePath), options);
    }

    /// <summary>
    /// Opens a cache built earlier (by <see cref="Prepare"/>) without its sources; <paramref name="options"/> gives
    /// the split, packing and seed, and its MaxLength must be the one the cache was built with.
    /// </summary>
    public static TrainingData Open(string cachePath, TrainingDataOptions options)
    {
        options.Validate();
        return Open(TokenCache.Open(cachePath), options);
    }

    static TrainingData Open(TokenCache cache, TrainingDataOptions options)
    {
        if (cache.Metadata.MaxLength != options.MaxLength)
        {
            cache.Dispose();
            throw new ArgumentException($"{cache.Path} was built for a maximum length of {cache.Metadata.MaxLength}, not {options.MaxLength}; prepare the data again");
        }
        return new TrainingData(cache, options);
    }

    /// <summary>
    /// Example indices held out for validation: round(fraction × count), at least 1 when the fraction is above 0 and
    /// there are at least 2 examples, at most count − 1; drawn by the seed, returned in index order.
    /// </summary>
    internal static (int[] Train, int[] Validation) Split(int count, double fraction, long seed)
    {
        int held = fraction > 0 && count >= 2 ? Math.Clamp((int)Math.Round(fraction * count), 1, count - 1) : 0;
        var validation = new DeterministicRandom(seed, ValidationStream, 0).SampleIndices(count, held);
        validation.Sort();
        var isValidation = new bool[count];
        foreach (int i in validation)
            isValidation[i] = true;
        var train = Enumerable.Range(0, count).Where(i => !isValidation[i]).ToArray();
        return (train, [.. validation]);
    }

    internal static int[] Shuffled(int[] items, long seed, int stream, long index)
    {
        var copy = (int[])items.Clone();
        new DeterministicRandom(seed, stream, index).Shuffle(copy);
        return copy;
    }

    static (int[] Examples, int[] Starts) Singles(int[] examples) => (examples, [.. Enumerable.Range(0, examples.Length + 1)]);

    /// <summary>
    /// Greedy packing in the given order: an example joins the current sequence if the sequence stays within
    /// MaxLength + 1 tokens, otherwise it starts the next one.
    /// </summary>
    internal static (int[] Examples, int[] Starts) Pack(TokenCache cache, int[] order, int maxLength)
    {
        var starts = new List<int> { 0 };
        int filled = 0;
        for (int i = 0; i < order.Length; i++)
        {
            int length = cache.Length(order[i]);
            if (filled > 0 && filled + length > maxLength + 1)
            {
                starts.Add(i);
                filled = 0;
            }
            filled += length;
        }
        if (order.Length > 0)
            starts.Add(order.Length);
        return (order, [.. starts]);
    }

    public void Dispose() => _cache.Dispose();
}
