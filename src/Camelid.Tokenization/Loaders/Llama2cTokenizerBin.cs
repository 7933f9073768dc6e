// llama2.c tokenizer.bin (format and reader: Camelid.Formats.Llama2c.Llama2cTokenizerFile). llama2.c's tokenizer.py
// exports a SentencePiece model by writing, for every id, the piece with U+2581 replaced by a space, BOS and EOS as
// "\n<s>\n" and "\n</s>\n", and byte pieces as "<0xNN>"; token types are not stored. llama2.c fixes UNK = 0, BOS = 1,
// EOS = 2. This loader undoes the export so the result tokenizes exactly like the original tokenizer.model.
using System.Text;
using Camelid.Formats.Llama2c;

namespace Camelid.Tokenization;

public static partial class TokenizerLoader
{
    const char SentencePieceSpace = '\u2581';

    /// <summary>A llama2.c tokenizer.bin, as a "llama" vocabulary equivalent to the tokenizer.model it was exported from.</summary>
    /// <param name="vocabSize">The model's vocab_size (the file does not store it); 0 or less reads every record.</param>
    public static Vocabulary FromLlama2cTokenizer(string tokenizerBinPath, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(tokenizerBinPath);
        if (!File.Exists(tokenizerBinPath))
            throw new TokenizerException($"{tokenizerBinPath}: tokenizer.bin not found");
        var file = vocabSize > 0 ? Llama2cTokenizerFile.Read(tokenizerBinPath, vocabSize) : Llama2cTokenizerFile.Read(tokenizerBinPath);
        int n = file.VocabSize;
        if (n < 3)
            throw new TokenizerException($"{tokenizerBinPath}: {n} tokens; a llama2.c tokenizer has at least <unk>, <s> and </s>");

        var tokens = new string[n];
        var types = new TokenType[n];
        for (int id = 0; id < n; id++)
        {
            string text;
            try
            {
                text = Utf8Strict.GetString(file.PieceBytes[id]);
            }
            catch (DecoderFallbackException)
            {
                throw new TokenizerException($"{tokenizerBinPath}: token {id} is not valid UTF-8; the file is corrupted");
            }
            (tokens[id], types[id]) = id switch
            {
                0 => (text, TokenType.Unknown),
                1 => (text == "\n<s>\n" ? "<s>" : text, TokenType.Control),
                2 => (text == "\n</s>\n" ? "</s>" : text, TokenType.Control),
                _ when ByteTokens.TryParse(text, out _) => (text, TokenType.Byte),
                _ => (text.Replace(' ', SentencePieceSpace), TokenType.Normal),
            };
        }
        var vocabulary = new Vocabulary(Vocabulary.SentencePieceModel, null, tokens, file.Scores, types, null,
            BosId: 1, EosId: 2, UnknownId: 0, PaddingId: null, AddBos: true, AddEos: false, AddSpacePrefix: true);
        return WithChecks(vocabulary, tokenizerBinPath);
    }
}
