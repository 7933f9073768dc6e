using Camelid.Formats.Gguf;
using Camelid.Formats.Llama2c;
using Camelid.Tests;

namespace Camelid.Formats.Tests;

public class Llama2cTokenizerFileTests
{
    const string Tok512 = "models/tok512.bin";
    const string Stories = "models/stories260K.gguf";
    const string Llama2Bin = "tokenizers/llama2c/tokenizer.bin";
    const string LlamaSpm = "tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf";

    [SharedDataFact(Tok512)]
    public void Tok512_has_512_tokens_with_the_known_pieces()
    {
        var t = Llama2cTokenizerFile.Read(TestPaths.Shared(Tok512), 512);
        Assert.Equal(512, t.VocabSize);
        Assert.Equal(7, t.MaxTokenLength);
        Assert.Equal("<unk>", t.Pieces[0]);
        Assert.Equal("\n<s>\n", t.Pieces[1]);
        Assert.Equal("\n</s>\n", t.Pieces[2]);
        Assert.Equal("<0x00>", t.Pieces[3]);
        Assert.Equal("<0x0A>", t.Pieces[3 + 10]);
        Assert.Equal("<0xFF>", t.Pieces[258]);
        Assert.Equal("\n</s>\n"u8.ToArray(), t.PieceBytes[2]);
        Assert.Equal(t.Pieces.Max(p => p.Length), t.MaxTokenLength); // ASCII pieces only, so chars = bytes
        Assert.DoesNotContain(t.Pieces, p => p.Contains('▁')); // llama2.c replaced it with a space
    }

    /// <summary>README: tok512.bin is the export of the vocabulary embedded in stories260K.gguf (▁ -> space, BOS/EOS rewritten).</summary>
    [SharedDataFact(Tok512, Stories)]
    public void Tok512_equals_the_vocabulary_inside_stories260K_gguf()
    {
        var bin = Llama2cTokenizerFile.Read(TestPaths.Shared(Tok512), 512);
        using var gguf = GgufFile.Open(TestPaths.Shared(Stories));
        AssertSameVocabulary(bin, gguf);
    }

    [SharedDataFact(Llama2Bin, LlamaSpm)]
    public void The_llama2_tokenizer_bin_equals_the_llama_spm_vocabulary()
    {
        var bin = Llama2cTokenizerFile.Read(TestPaths.Shared(Llama2Bin), 32000);
        Assert.Equal(27, bin.MaxTokenLength);
        using var gguf = GgufFile.Open(TestPaths.Shared(LlamaSpm));
        AssertSameVocabulary(bin, gguf);
    }

    static void AssertSameVocabulary(Llama2cTokenizerFile bin, GgufFile gguf)
    {
        var tokens = gguf.Metadata.TryGetStringArray("tokenizer.ggml.tokens")!;
        var scores = gguf.Metadata.TryGetFloatArray("tokenizer.ggml.scores")!;
        Assert.Equal(tokens.Length, bin.VocabSize);
        for (int i = 0; i < tokens.Length; i++)
        {
            string expected = i switch { 1 => "\n<s>\n", 2 => "\n</s>\n", _ => tokens[i].Replace('▁', ' ') };
            Assert.Equal(expected, bin.Pieces[i]);
            Assert.Equal(BitConverter.SingleToInt32Bits(scores[i]), BitConverter.SingleToInt32Bits(bin.Scores[i]));
        }
    }

    [SharedDataFact(Tok512)]
    public void A_vocabulary_size_mismatch_names_both_sizes()
    {
        var e = Assert.Throws<ModelFormatException>(() => Llama2cTokenizerFile.Read(TestPaths.Shared(Tok512), 32000));
        Assert.Contains("tokenizer.bin has 512 tokens but the model's vocabulary is 32000: wrong tokenizer", e.Message);
        e = Assert.Throws<ModelFormatException>(() => Llama2cTokenizerFile.Read(TestPaths.Shared(Tok512), 500));
        Assert.Contains("has 512 tokens but the model's vocabulary is 500", e.Message);
    }

    static byte[] TinyTokenizer() => new Bytes()
        .I32(6)
        .F32(0).I32(5).Raw("<unk>")
        .F32(-1.5f).I32(0)
        .F32(-2).I32(3).Raw([0xE2, 0x96, 0x81]) // one UTF-8 character (U+2581)
        .F32(float.NegativeInfinity).I32(6).Raw("abcdef")
        .ToArray();

    [Fact]
    public void A_hand_built_file_is_read_record_by_record()
    {
        using var dir = new TempDir(nameof(A_hand_built_file_is_read_record_by_record));
        var t = Llama2cTokenizerFile.Read(dir.File("tok.bin", TinyTokenizer()), 4);
        Assert.Equal(6, t.MaxTokenLength);
        Assert.Equal(["<unk>", "", "▁", "abcdef"], t.Pieces);
        Assert.Equal([0f, -1.5f, -2f, float.NegativeInfinity], t.Scores);
        Assert.Equal(3, t.PieceBytes[2].Length);
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        using var dir = new TempDir(nameof(Every_truncation_is_rejected));
        var bytes = TinyTokenizer();
        string path = dir.Combine("cut.bin");
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            File.WriteAllBytes(path, bytes[..cut]);
            var e = Hostile.Rejects(() => Llama2cTokenizerFile.Read(path, 4), $"cut at {cut}");
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("no tokens"), e.Message);
        }
        File.WriteAllBytes(path, [.. bytes, 1, 2, 3]);
        Hostile.Rejects(() => Llama2cTokenizerFile.Read(path, 4), "trailing bytes");
    }

    [Fact]
    public void Corrupted_lengths_are_rejected()
    {
        using var dir = new TempDir(nameof(Corrupted_lengths_are_rejected));
        (byte[] Bytes, string Expected)[] cases =
        [
            (new Bytes().I32(0).F32(0).I32(0).ToArray(), "max_token_length = 0"),
            (new Bytes().I32(-5).F32(0).I32(0).ToArray(), "max_token_length = -5"),
            (new Bytes().I32(int.MaxValue).F32(0).I32(0).ToArray(), "max_token_length = 2147483647"),
            (new Bytes().I32(8).F32(0).I32(-1).ToArray(), "length -1"),
            (new Bytes().I32(8).F32(0).I32(9).Raw("123456789").ToArray(), "length 9"),
            (new Bytes().I32(8).F32(0).I32(int.MinValue).ToArray(), "length -2147483648"),
            (new Bytes().I32(1 << 16).F32(0).I32(1 << 16).Raw("x").ToArray(), "truncated"),
        ];
        foreach (var (bytes, expected) in cases)
        {
            string path = dir.File("bad.bin", bytes);
            Assert.Contains(expected, Hostile.Rejects(() => Llama2cTokenizerFile.Read(path, 1), expected).Message);
        }
    }

    [Fact]
    public void Random_bit_flips_give_a_tokenizer_or_a_format_error()
    {
        using var dir = new TempDir(nameof(Random_bit_flips_give_a_tokenizer_or_a_format_error));
        var original = TinyTokenizer();
        var random = new Random(5);
        string path = dir.Combine("flip.bin");
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            var bytes = (byte[])original.Clone();
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(path, bytes);
            Hostile.OpensOrRejects(() => Llama2cTokenizerFile.Read(path, 4), $"iteration {iteration}");
        }
    }
}
