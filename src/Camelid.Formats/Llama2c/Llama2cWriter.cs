// Writes llama2.c checkpoints and tokenizer.bin files in the layouts Llama2cCheckpoint and Llama2cTokenizerFile read
// (see their header comments), as llama2.c's export.py (legacy_export, version1_export) and tokenizer.py write them:
//   version 0  7 x i32 header (vocab_size negated when the classifier is separate), the f32 arrays in
//              Llama2cCheckpoint.FileOrder, with the RoPE tables filled as export.py computes them
//              (precompute_freqs_cis with theta 10000: cos and sin of position x head_size^(-2i/head_size) rates,
//              for positions 0..seq_len-1), though run.c skips them;
//   version 1  the 256-byte header (magic "ak42", version 1, the 7 ints with vocab_size positive, the
//              shared-classifier byte, zero padding), then the f32 arrays in version 1's order.
// Weights come from a callback per array, which must write exactly its f32 bytes (checked against the stream position).
using System.Buffers.Binary;

namespace Camelid.Formats.Llama2c;

public static class Llama2cWriter
{
    /// <param name="stream">A seekable stream (a file), so each weight's byte count can be checked.</param>
    /// <param name="writeWeight">Writes the named weight (Meta's name, (rows, cols) row-major f32) to the stream.</param>
    public static void WriteCheckpoint(Stream stream, Llama2cHeader header, int version, Action<string, Stream> writeWeight)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (Llama2cCheckpoint.HeaderProblem(header) is { } problem)
            throw new ArgumentException($"these hyperparameters cannot be written as a llama2.c checkpoint: {problem}");
        var headerBytes = new byte[version == 0 ? Llama2cCheckpoint.LegacyHeaderBytes : Llama2cCheckpoint.VersionedHeaderBytes];
        var ints = headerBytes.AsSpan(version == 0 ? 0 : 8);
        int[] values = [header.Dim, header.HiddenDim, header.Layers, header.Heads, header.KvHeads,
            version == 0 && !header.SharedClassifier ? -header.VocabSize : header.VocabSize, header.SeqLen];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(ints[(4 * i)..], values[i]);
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(headerBytes, Llama2cCheckpoint.Magic);
            BinaryPrimitives.WriteInt32LittleEndian(headerBytes.AsSpan(4), 1);
            headerBytes[36] = header.SharedClassifier ? (byte)1 : (byte)0;
        }
        else if (version != 0)
            throw new ArgumentOutOfRangeException(nameof(version), version, "llama2.c checkpoints are written as version 0 or 1");
        stream.Write(headerBytes);

        foreach (var array in Llama2cCheckpoint.FileOrder(header, version))
        {
            if (!array.IsWeight)
            {
                WriteRopeTable(stream, header, cosine: array.Name == "freq_cis_real");
                continue;
            }
            long before = stream.Position;
            writeWeight(array.Name, stream);
            if (stream.Position - before != 4 * array.Elements)
                throw new InvalidOperationException($"{array.Name}: {stream.Position - before} bytes were written, (f32) {TensorEntry.FormatShape(array.Shape)} takes {4 * array.Elements}");
        }
    }

    static void WriteRopeTable(Stream stream, Llama2cHeader h, bool cosine)
    {
        int half = h.HeadSize / 2;
        var rates = new float[half];
        for (int i = 0; i < half; i++)
            rates[i] = 1f / MathF.Pow(10000f, 2 * i / (float)h.HeadSize);
        var row = new byte[4 * half];
        for (int position = 0; position < h.SeqLen; position++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = position * rates[i];
                BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4 * i), cosine ? MathF.Cos(angle) : MathF.Sin(angle));
            }
            stream.Write(row);
        }
    }

    /// <summary>A tokenizer.bin: max_token_length (the longest piece), then per token its score, byte length and bytes.</summary>
    public static void WriteTokenizer(Stream stream, IReadOnlyList<byte[]> pieces, IReadOnlyList<float> scores)
    {
        if (pieces.Count == 0 || pieces.Count != scores.Count)
            throw new ArgumentException($"a tokenizer.bin needs one score per piece and at least one piece ({pieces.Count} pieces, {scores.Count} scores)");
        var buffer = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, Math.Max(1, pieces.Max(p => p.Length)));
        stream.Write(buffer, 0, 4);
        for (int id = 0; id < pieces.Count; id++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, scores[id]);
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4), pieces[id].Length);
            stream.Write(buffer);
            stream.Write(pieces[id]);
        }
    }
}
