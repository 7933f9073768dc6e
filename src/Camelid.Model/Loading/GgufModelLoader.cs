using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Tokenization;

namespace Camelid.Model.Loading;

static class GgufModelLoader
{
    public static LoadedModel Load(string path, string? tokenizerPath)
    {
        var file = GgufFile.Open(path);
        try
        {
            var m = file.Metadata;
            var embedding = file.Find(TensorNames.Gguf.TokenEmbedding);
            if (file.Tensors.Count == 0 || embedding == null)
                throw new ModelFormatException($"{path}: the file holds no model weights (vocabulary-only GGUF?); it can be used with `camelid tokenize` only");
            var config = LlamaConfig.FromGguf(m, (int)embedding.Rows, file.Find("rope_freqs.weight")?.ToFloats());
            var weights = ModelLoader.BuildWeights(config, TensorNames.Gguf, file.Find, path);
            Tokenizer? tokenizer = tokenizerPath != null ? ModelLoader.LoadTokenizerFile(tokenizerPath, config.VocabSize)
                : m.Contains("tokenizer.ggml.model") ? Tokenizer.Create(TokenizerLoader.FromGguf(m)) : null;
            ModelLoader.CheckVocabulary(tokenizer, config, path);
            string name = m.GetStringOrNull("general.name") is { Length: > 0 } n && n != "llama" ? n : System.IO.Path.GetFileNameWithoutExtension(path);
            return new LoadedModel(path, $"GGUF v{file.Version}", file, config, weights, file.Tensors, tokenizer,
                m.GetStringOrNull("tokenizer.chat_template"), name);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
