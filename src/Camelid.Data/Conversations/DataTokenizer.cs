using Camelid.Model;
using Camelid.Tokenization;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Data.Conversations;

/// <summary>The tokenizer and chat template the data commands count tokens with.</summary>
public static class DataTokenizer
{
    /// <summary>
    /// A model's tokenizer (<paramref name="modelPath"/>: .gguf, llama2.c checkpoint or Hugging Face folder, with
    /// <paramref name="tokenizerPath"/> beside it when the model needs one), or a tokenizer file alone: a SentencePiece
    /// tokenizer.model, a Hugging Face tokenizer.json, a vocabulary-only .gguf, or a llama2.c tokenizer.bin.
    /// </summary>
    public static Tokenizer Load(string? modelPath, string? tokenizerPath)
    {
        if (modelPath != null)
            return LlamaModel.LoadTokenizer(modelPath, tokenizerPath);
        if (tokenizerPath == null)
            throw new ArgumentException("give --model MODEL or --tokenizer FILE to count tokens");
        if (Directory.Exists(tokenizerPath))
            return LlamaModel.LoadTokenizer(tokenizerPath);
        if (!File.Exists(tokenizerPath))
            throw new FileNotFoundException($"{tokenizerPath}: tokenizer file not found", tokenizerPath);
        if (global::Camelid.Formats.Gguf.GgufFile.HasGgufMagic(tokenizerPath))
            return LlamaModel.LoadTokenizer(tokenizerPath);
        if (Path.GetFileName(tokenizerPath).EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!, "tokenizer_config.json");
            return Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(tokenizerPath, File.Exists(config) ? config : null));
        }
        using (var file = File.OpenRead(tokenizerPath))
        {
            // A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A.
            if (file.ReadByte() == 0x0A)
                return Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(tokenizerPath));
        }
        return Tokenizer.Create(TokenizerLoader.FromLlama2cTokenizer(tokenizerPath, 0));
    }

    /// <summary>A built-in template by name ("vicuna", "llama-2", "chatml", …), or null for "none".</summary>
    public static ChatTemplate? Template(string name) =>
        name.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : ChatTemplates.Get(name);
}
