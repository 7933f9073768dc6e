// llama2.c's tokenizer.bin (written by llama2.c tokenizer.py, read by run.c build_tokenizer), little-endian:
//   i32 max_token_length | per token, in id order: f32 score, i32 byte length, the piece's bytes (no terminator).
// The file does not store the number of tokens: run.c takes it from the model's vocab_size, so a reader needs it
// too, and checks that exactly that many records fill the file. Pieces are raw bytes: tokenizer.py has already
// replaced SentencePiece's U+2581 with a space, written byte tokens as "<0xNN>" and BOS/EOS as "\n<s>\n" and
// "\n</s>\n"; run.c relies on no piece being longer than max_token_length.
using System.Buffers.Binary;
using System.Text;

namespace Camelid.Formats.Llama2c;

/// <summary>A parsed tokenizer.bin: the pieces (as bytes and as UTF-8 text), their scores, and max_token_length.</summary>
public sealed class Llama2cTokenizerFile
{
    public string Path { get; }
    public int MaxTokenLength { get; }

    /// <summary>The raw bytes of each piece, indexed by token id.</summary>
    public byte[][] PieceBytes { get; }

    /// <summary>The pieces decoded as UTF-8 (invalid sequences become U+FFFD; use <see cref="PieceBytes"/> for exact bytes).</summary>
    public string[] Pieces { get; }

    public float[] Scores { get; }

    public int VocabSize => Pieces.Length;

    Llama2cTokenizerFile(string path, int maxTokenLength, byte[][] pieceBytes, float[] scores)
    {
        Path = path;
        MaxTokenLength = maxTokenLength;
        PieceBytes = pieceBytes;
        Pieces = pieceBytes.Select(b => Encoding.UTF8.GetString(b)).ToArray();
        Scores = scores;
    }

    /// <summary>Reads a tokenizer.bin that must hold exactly <paramref name="vocabSize"/> tokens (the model's vocab_size).</summary>
    public static Llama2cTokenizerFile Read(string path, int vocabSize)
    {
        if (vocabSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "the vocabulary size must be positive");
        var result = Read(path);
        if (result.VocabSize != vocabSize)
            throw new ModelFormatException($"{path}: tokenizer.bin has {result.VocabSize} tokens but the model's vocabulary is {vocabSize}: wrong tokenizer for this model"
                + (result.VocabSize < vocabSize ? ", or the file is truncated" : ""));
        return result;
    }

    /// <summary>Reads every record up to the end of the file (for tools that have no model at hand).</summary>
    public static Llama2cTokenizerFile Read(string path)
    {
        using var file = new MappedFile(path);
        if (file.Length < 4)
            throw new ModelFormatException($"{path}: {file.Length} bytes is too short for a llama2.c tokenizer.bin (it starts with a 4-byte max_token_length); the file is truncated");
        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(file.Span(0, 4));
        if (maxTokenLength <= 0 || maxTokenLength > 1 << 16)
            throw new ModelFormatException($"{path}: max_token_length = {maxTokenLength} is not in 1..65536; not a llama2.c tokenizer.bin, or corrupted");

        var pieces = new List<byte[]>();
        var scores = new List<float>();
        long position = 4;
        while (position < file.Length)
        {
            int id = pieces.Count;
            if (file.Length - position < 8)
                throw new ModelFormatException($"{path}: token {id} at byte {position}: the file ends inside its score and length (needs 8 bytes, {file.Length - position} left); the file is truncated");
            var record = file.Span(position, 8);
            float score = BinaryPrimitives.ReadSingleLittleEndian(record);
            int length = BinaryPrimitives.ReadInt32LittleEndian(record[4..]);
            position += 8;
            if (length < 0 || length > maxTokenLength)
                throw new ModelFormatException($"{path}: token {id} at byte {position - 8} has length {length}, outside 0..max_token_length ({maxTokenLength}); the file is corrupted or not a llama2.c tokenizer.bin");
            if (length > file.Length - position)
                throw new ModelFormatException($"{path}: token {id} needs {length} bytes at byte {position} but the file ends at {file.Length}; the file is truncated");
            pieces.Add(file.Span(position, length).ToArray());
            scores.Add(score);
            position += length;
        }
        if (pieces.Count == 0)
            throw new ModelFormatException($"{path}: the tokenizer holds no tokens");
        return new Llama2cTokenizerFile(path, maxTokenLength, [.. pieces], [.. scores]);
    }
}
