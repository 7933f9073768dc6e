using Camelid.Formats;
using Camelid.Formats.Llama2c;
using Camelid.Tokenization;

namespace Camelid.Model.Loading;

static class Llama2cModelLoader
{
    public static LoadedModel Load(string path, string? tokenizerPath)
    {
        var checkpoint = Llama2cCheckpoint.Open(path);
        try
        {
            var config = LlamaConfig.FromLlama2c(checkpoint.Header, path);
            var weights = ModelLoader.BuildWeights(config, TensorNames.Meta, checkpoint.Find, path);
            tokenizerPath ??= FindTokenizerBeside(path, config.VocabSize);
            Tokenizer? tokenizer = tokenizerPath != null ? ModelLoader.LoadTokenizerFile(tokenizerPath, config.VocabSize) : null;
            ModelLoader.CheckVocabulary(tokenizer, config, path);
            return new LoadedModel(path, "llama2.c checkpoint", checkpoint, config, weights, checkpoint.Tensors, tokenizer,
                null, System.IO.Path.GetFileNameWithoutExtension(path));
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>llama2.c looks for tokenizer.bin; its small models ship tok{vocab}.bin beside them.</summary>
    public static string? FindTokenizerBeside(string modelPath, int vocabSize)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(modelPath))!;
        foreach (var name in new[] { $"tok{vocabSize}.bin", "tokenizer.bin" })
        {
            string candidate = System.IO.Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
