using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using Camelid.Data.Conversations;
using Camelid.Tokenization;

namespace Camelid.Training.Data;

/// <summary>
/// Reads every source, tokenizes its examples and writes them, cut to the maximum length, to a <see cref="TokenCache"/>.
/// Records stream from the files (JSON arrays through the serializer's async enumerator, JSON lines line by line);
/// batches of them are tokenized in parallel and written in file order, so the cache is the same on every run.
/// </summary>
internal static class TrainingDataBuilder
{
    const int ParallelBatch = 256;
    const int IdsPerSkipReason = 5;
    const string NothingToTrain = "nothing to train on within the maximum length (the prompt fills it)";

    public static void Build(IReadOnlyList<DataSource> sources, Tokenizer tokenizer, TrainingDataOptions options,
                             string cachePath, string fingerprint, CancellationToken cancellation)
    {
        var spans = new SpanTokenizer(tokenizer);
        using var writer = new TokenCacheWriter(cachePath, tokenizer.EosId >= 0 ? tokenizer.EosId : 0);
        var reports = new List<SourceReport>();
        foreach (var source in sources)
        {
            var format = source.Format == TrainingDataFormat.Auto ? TrainingDataFormats.Detect(source.Path) : source.Format;
            var tally = new SourceTally(source.Path, options.MaxLength);
            if (format == TrainingDataFormat.Alpaca && tokenizer.EosId < 0)
                throw new ArgumentException($"{source.Path}: Alpaca responses end with EOS, and this tokenizer has no EOS token");
            if (format == TrainingDataFormat.Text)
                AddText(source, spans, options, writer, tally, cancellation);
            else
                AddRecords(source, format, spans, options, writer, tally, cancellation);
            reports.Add(tally.ToReport(format, source.QualityTag));
        }
        writer.Commit(new TokenCacheMetadata(fingerprint, options.MaxLength, new DataReport { Sources = reports, MaxLength = options.MaxLength }));
    }

    readonly record struct Encoded(string Id, (int[] Tokens, bool[] Trained) Example, string? Problem, bool TrailingUserDropped);

    static void AddRecords(DataSource source, TrainingDataFormat format, SpanTokenizer spans, TrainingDataOptions options,
                           TokenCacheWriter writer, SourceTally tally, CancellationToken cancellation)
    {
        var records = ConversationFile.ReadRecordsAsync(source.Path, cancellation).ToBlockingEnumerable(cancellation);
        foreach (var batch in records.Chunk(ParallelBatch))
        {
            var encoded = InParallel(batch, record => Encode(record, format, source.QualityTag, spans, options), cancellation);
            foreach (var result in encoded)
            {
                tally.Read++;
                if (result.Problem != null)
                {
                    if (!options.SkipInvalid)
                        throw new InvalidExampleException(source.Path, result.Id, result.Problem);
                    tally.Skip(result.Problem, result.Id);
                    continue;
                }
                if (result.TrailingUserDropped)
                    tally.TrailingUserTurnsDropped++;
                tally.Write(writer, result.Example, result.Id);
            }
        }
    }

    static Encoded Encode(SourceRecord record, TrainingDataFormat format, string? qualityTag, SpanTokenizer spans, TrainingDataOptions options)
    {
        string id = record.Conversation.Id is { Length: > 0 } given ? given : $"record {record.Index + 1}";
        var recordFormat = record.Format switch
        {
            DataFormat.Alpaca => TrainingDataFormat.Alpaca,
            DataFormat.ShareGpt => TrainingDataFormat.ShareGpt,
            _ => TrainingDataFormat.Messages,
        };
        if (recordFormat != format)
            return new Encoded(id, default, $"{recordFormat} record in {format} data", false);
        if (record.Alpaca is { } alpaca)
            return new Encoded(id, AlpacaTrainingPrompt.Encode(spans, alpaca, qualityTag), null, false);

        var messages = ConversationExamples.ToMessages(record.Conversation, qualityTag, out var problem, out bool trailingUserDropped);
        if (messages == null)
            return new Encoded(id, default, problem, false);
        try
        {
            return new Encoded(id, ConversationExamples.Encode(spans, options.ChatTemplate, messages), null, trailingUserDropped);
        }
        catch (ArgumentException e)
        {
            return new Encoded(id, default, $"the {options.ChatTemplate.Name} template cannot render it: {e.Message}", false);
        }
    }

    /// <summary>
    /// Each document becomes BOS (when the tokenizer adds one) + its tokens + EOS (unless switched off); documents are
    /// concatenated and cut into sequences of MaxLength + 1 tokens by a <see cref="TokenChunker"/>. All files of one
    /// source form one stream.
    /// </summary>
    static void AddText(DataSource source, SpanTokenizer spans, TrainingDataOptions options, TokenCacheWriter writer,
                        SourceTally tally, CancellationToken cancellation)
    {
        if (source.QualityTag != null)
            throw new ArgumentException($"{source.Path}: a quality tag applies to instruction and conversation data, not to plain text");
        var tokenizer = spans.Tokenizer;
        bool eos = options.EndDocumentsWithEos && tokenizer.EosId >= 0;
        var chunker = new TokenChunker(options.MaxLength);
        int sequence = 0;
        foreach (string file in TextDocuments.Files(source.Path))
        {
            foreach (var batch in TextDocuments.Read(file, options.TextSplit).Chunk(ParallelBatch))
            {
                var encoded = InParallel(batch, document =>
                {
                    var text = tokenizer.Encode(document, addBos: spans.AddsBos);
                    return eos ? [.. text, tokenizer.EosId] : text;
                }, cancellation);
                foreach (var document in encoded)
                {
                    tally.Read++;
                    foreach (var chunk in chunker.Add(document))
                        tally.Write(writer, chunk, $"sequence {sequence++}");
                }
            }
        }
        if (chunker.Flush() is { } last)
            tally.Write(writer, last, $"sequence {sequence}");
    }

    /// <summary>
    /// <paramref name="encode"/> applied to every item on all cores, results in item order. A failure surfaces as
    /// itself (the first one), not wrapped in an AggregateException, so callers report it as for sequential code.
    /// </summary>
    static TOut[] InParallel<TIn, TOut>(TIn[] items, Func<TIn, TOut> encode, CancellationToken cancellation)
    {
        var results = new TOut[items.Length];
        try
        {
            Parallel.For(0, items.Length, new ParallelOptions { CancellationToken = cancellation }, i => results[i] = encode(items[i]));
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
        }
        return results;
    }

    /// <summary>Counts for one source while it is read.</summary>
    sealed class SourceTally(string path, int maxLength)
    {
        readonly Dictionary<string, (int Count, List<string> Ids)> _skipped = new(StringComparer.Ordinal);
        int _examples, _truncated;
        long _tokens, _trained;

        public int Read { get; set; }
        public int TrailingUserTurnsDropped { get; set; }

        public void Skip(string reason, string id)
        {
            var (count, ids) = _skipped.TryGetValue(reason, out var known) ? known : (0, new List<string>());
            if (ids.Count < IdsPerSkipReason)
                ids.Add(id);
            _skipped[reason] = (count + 1, ids);
        }

        /// <summary>Cuts the example to MaxLength + 1 tokens and writes it, unless nothing trained is left.</summary>
        public void Write(TokenCacheWriter writer, (int[] Tokens, bool[] Trained) example, string id)
        {
            int length = Math.Min(example.Tokens.Length, maxLength + 1);
            var tokens = example.Tokens.AsSpan(0, length);
            var trained = example.Trained.AsSpan(0, length);
            int targets = trained.Length > 1 ? trained[1..].Count(true) : 0;
            if (targets == 0)
            {
                Skip(NothingToTrain, id);
                return;
            }
            if (length < example.Tokens.Length)
                _truncated++;
            writer.Append(tokens, trained);
            _examples++;
            _tokens += length;
            _trained += targets;
        }

        public SourceReport ToReport(TrainingDataFormat format, string? qualityTag) => new()
        {
            Path = path,
            Format = format,
            QualityTag = qualityTag,
            Read = Read,
            Examples = _examples,
            Truncated = _truncated,
            TrailingUserTurnsDropped = TrailingUserTurnsDropped,
            Tokens = _tokens,
            TrainedTokens = _trained,
            Skipped = [.. _skipped.Select(s => new SkipReport(s.Key, s.Value.Count, s.Value.Ids))],
        };
    }

    /// <summary>
    /// A hash of everything the cache's content depends on: the sources (path, format, tag, and each file's size and
    /// modification time), the tokenizer's vocabulary, the chat template, the maximum length and the text and skip
    /// options. A cache with the same fingerprint is reused as it is.
    /// </summary>
    public static string Fingerprint(IReadOnlyList<DataSource> sources, Tokenizer tokenizer, TrainingDataOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));

        Add($"camelid training data, cache version {TokenCache.Version}");
        Add($"max-len {options.MaxLength}, template {options.ChatTemplate.Name}, skip {options.SkipInvalid}, " +
            $"text split {options.TextSplit}, document eos {options.EndDocumentsWithEos}");
        var v = tokenizer.Vocabulary;
        Add($"tokenizer {v.Model} {v.Pre} bos {v.BosId} eos {v.EosId} add-bos {v.AddBos} space-prefix {v.AddSpacePrefix} " +
            $"remove-extra-whitespaces {v.RemoveExtraWhitespaces} ignore-merges {v.IgnoreMerges}");
        for (int id = 0; id < v.Tokens.Count; id++)
            Add($"{v.Tokens[id]}\t{(v.Scores != null ? v.Scores[id] : 0)}\t{tokenizer.TypeOf(id)}");
        foreach (var merge in v.Merges ?? [])
            Add(merge);
        foreach (var source in sources)
        {
            Add($"source {Path.GetFullPath(source.Path)} {source.Format} {source.QualityTag}");
            var files = Directory.Exists(source.Path) ? TextDocuments.Files(source.Path) : [source.Path];
            foreach (var file in files)
            {
                var info = new FileInfo(file);
                Add(info.Exists ? $"{info.FullName} {info.Length} {info.LastWriteTimeUtc.Ticks}" : $"{info.FullName} missing");
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
