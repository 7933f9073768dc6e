// A model as a llama2.c checkpoint plus its tokenizer.bin, for `camelid convert --to llama2c` and delta apply.
// Convert writes version 0, the layout run.c reads (export.py's legacy_export): f32 weights, a 7-int header whose
// n_kv_heads carries grouped-query attention and whose negative vocab_size marks a separate classifier. What the
// format cannot hold is refused rather than silently changed, because run.c hard-codes it:
//   RMSNorm epsilon 1e-5, RoPE theta 10000 without scaling, Meta's interleaved RoPE pairs (which our canonical
//   rows already are), a SentencePiece vocabulary with <unk> = 0, <s> = 1, </s> = 2 (tokenizer.bin stores
//   neither token types nor special ids).
// tokenizer.bin is written as tokenizer.py exports it: U+2581 -> space, <s>/</s> as "\n<s>\n"/"\n</s>\n", byte
// pieces as "<0xNN>", scores as they are; TokenizerLoader.FromLlama2cTokenizer undoes exactly this. It goes beside
// the checkpoint as tok{vocab}.bin, the name Camelid and llama2.c's small models look for.
using System.Text;
using Camelid.Formats.Llama2c;
using Camelid.Tokenization;

namespace Camelid.Model.Conversion;

static class Llama2cOutput
{
    public const int WrittenVersion = 0;

    /// <summary>Why this model cannot be a llama2.c checkpoint (run.c's fixed settings), or null.</summary>
    public static string? Problem(LlamaConfig c, Vocabulary v)
    {
        if (c.RopeScaling != null)
            return $"llama2.c has no RoPE scaling, but this model uses {c.RopeScaling.GetType().Name} scaling";
        if (c.RopeTheta != 10000.0)
            return $"run.c's RoPE uses theta 10000, but this model uses {c.RopeTheta}";
        if (c.RmsNormEps != 1e-5f)
            return $"run.c's RMSNorm uses epsilon 1e-5, but this model uses {c.RmsNormEps:R}";
        if (v.Model != Vocabulary.SentencePieceModel)
            return $"tokenizer.bin holds SentencePiece vocabularies only, but this one is \"{v.Model}\" (byte-level BPE)";
        if (v.UnknownId != 0 || v.BosId != 1 || v.EosId != 2)
            return $"run.c fixes <unk> = 0, <s> = 1, </s> = 2, but this vocabulary has <unk> = {v.UnknownId?.ToString() ?? "none"}, <s> = {v.BosId}, </s> = {v.EosId}";
        return null;
    }

    public static Llama2cHeader HeaderOf(LlamaConfig c, bool tiedOutput) =>
        new(c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KvHeads, c.VocabSize, c.TrainedContextLength, tiedOutput);

    /// <summary>Tokens whose type tokenizer.bin cannot keep (user-defined, unused, or control beyond ids 1 and 2).</summary>
    public static int UntypedTokens(Vocabulary v) =>
        Enumerable.Range(3, Math.Max(0, v.Tokens.Count - 3)).Count(id => v.TypeOf(id) is not (TokenType.Normal or TokenType.Byte));

    public static byte[] TokenizerBin(Vocabulary v)
    {
        var pieces = new byte[v.Tokens.Count][];
        for (int id = 0; id < pieces.Length; id++)
        {
            string text = id switch
            {
                1 => "\n<s>\n",
                2 => "\n</s>\n",
                _ => v.Tokens[id].Replace('\u2581', ' '),
            };
            pieces[id] = Encoding.UTF8.GetBytes(text);
        }
        var stream = new MemoryStream();
        Llama2cWriter.WriteTokenizer(stream, pieces, v.Scores ?? new float[pieces.Length]);
        return stream.ToArray();
    }

    public static string TokenizerPathBeside(string checkpointPath, int vocabSize) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, $"tok{vocabSize}.bin");

    /// <summary>
    /// Writes the checkpoint (via OUT.partial) and the tokenizer file beside it. An existing tokenizer file with other
    /// contents is not overwritten: that is an error before anything is written.
    /// </summary>
    /// <param name="rowsOf">The f32 rows, in Meta's order, of the weight with this canonical name.</param>
    public static void Write(string path, Llama2cHeader header, int version, Func<string, RowBytesSource> rowsOf,
        byte[]? tokenizerBin, string? tokenizerPath, IReadOnlyList<ConvertedTensor> written, ConversionOptions options)
    {
        if (tokenizerBin != null && tokenizerPath != null && File.Exists(tokenizerPath) && !File.ReadAllBytes(tokenizerPath).AsSpan().SequenceEqual(tokenizerBin))
            throw new IOException($"{tokenizerPath} exists and holds another tokenizer; move it away or write the checkpoint into another folder");
        var config = new LlamaConfig
        {
            Dim = header.Dim, HiddenDim = header.HiddenDim, Layers = header.Layers, Heads = header.Heads,
            KvHeads = header.KvHeads, VocabSize = header.VocabSize, TrainedContextLength = header.SeqLen,
        };
        var canonicalOf = ModelSource.CanonicalNames(TensorNames.Meta, config);
        var progress = new ProgressCounter(options, written);
        var index = written.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i);
        AtomicOutput.WriteFile(path, partial =>
        {
            using var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            Llama2cWriter.WriteCheckpoint(stream, header, version, (metaName, s) =>
            {
                string name = canonicalOf[metaName];
                progress.Start(index[name]);
                var shape = written[index[name]].Shape;
                long rows = shape.Length == 1 ? 1 : shape[0];
                TensorStreamer.WriteBytes(s, rows, 4 * shape[^1], rowsOf(name), progress.Advance, options.Cancellation);
            });
        });
        if (tokenizerBin != null && tokenizerPath != null && !File.Exists(tokenizerPath))
            AtomicOutput.WriteFile(tokenizerPath, partial => File.WriteAllBytes(partial, tokenizerBin));
    }
}
