using Camelid.Formats;
using Camelid.Tokenization;

namespace Camelid.Model.Loading;

/// <summary>What a format-specific loader produces; the storage owns the mapped files the weights point into.</summary>
sealed record LoadedModel(
    string Path, string Format, IDisposable Storage, LlamaConfig Config, LlamaWeights Weights,
    IReadOnlyList<TensorEntry> Tensors, Tokenizer? Tokenizer, string? ChatTemplate, string Name);

/// <summary>Recognises the kind of model at a path and hands it to the reader for that format.</summary>
static class ModelLoader
{
    public static LoadedModel Load(string path, string? tokenizerPath)
    {
        if (Directory.Exists(path))
            return HfModelLoader.Load(path);
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: no such file or folder");
        if (tokenizerPath != null && !File.Exists(tokenizerPath))
            throw new ModelFormatException($"{tokenizerPath}: tokenizer file not found");
        if (Formats.Gguf.GgufFile.HasGgufMagic(path))
            return GgufModelLoader.Load(path, tokenizerPath);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ModelFormatException($"{path}: a bare .safetensors file has no config; pass the Hugging Face model folder (with config.json) instead");
        return Llama2cModelLoader.Load(path, tokenizerPath);
    }

    /// <summary>Only the tokenizer of a model; works on vocabulary-only GGUF files, which hold no weights.</summary>
    public static Tokenizer LoadTokenizer(string path, string? tokenizerPath)
    {
        if (Directory.Exists(path))
        {
            string json = Path.Combine(path, "tokenizer.json"), model = Path.Combine(path, "tokenizer.model"), config = Path.Combine(path, "tokenizer_config.json");
            if (File.Exists(json))
                return Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(json, File.Exists(config) ? config : null));
            if (File.Exists(model))
                return Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(model));
            throw new ModelFormatException($"{path}: no tokenizer.json or tokenizer.model in this folder");
        }
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: no such file or folder");
        if (Formats.Gguf.GgufFile.HasGgufMagic(path))
        {
            using var gguf = Formats.Gguf.GgufFile.Open(path);
            if (tokenizerPath != null)
                return LoadTokenizerFile(tokenizerPath, gguf.Find(TensorNames.Gguf.TokenEmbedding)?.Rows is long rows ? (int)rows : 0);
            if (!gguf.Metadata.Contains("tokenizer.ggml.model"))
                throw new ModelFormatException($"{path}: this GGUF file has no tokenizer (tokenizer.ggml.* keys); pass --tokenizer FILE");
            return Tokenizer.Create(TokenizerLoader.FromGguf(gguf.Metadata));
        }
        using var checkpoint = Formats.Llama2c.Llama2cCheckpoint.Open(path);
        int vocab = checkpoint.Header.VocabSize;
        tokenizerPath ??= Llama2cModelLoader.FindTokenizerBeside(path, vocab)
            ?? throw new ModelFormatException($"{path}: a llama2.c checkpoint needs --tokenizer FILE (tokenizer.bin)");
        return LoadTokenizerFile(tokenizerPath, vocab);
    }

    /// <summary>Builds the per-layer weight objects from a name table; every missing tensor is named in the error.</summary>
    public static LlamaWeights BuildWeights(LlamaConfig config, TensorNames names, Func<string, TensorEntry?> find, string source,
        Func<TensorEntry, int, TensorEntry>? adaptQuery = null, Func<TensorEntry, int, TensorEntry>? adaptKey = null)
    {
        TensorEntry Require(string name) => find(name)
            ?? throw new ModelFormatException($"{source}: tensor '{name}' is missing; the file is incomplete or not a LLaMA model");
        float[] Vector(string name) => Require(name).ToFloats();
        Linear Matrix(string name) => new(Require(name));

        var embedding = Require(names.TokenEmbedding);
        var layers = new LayerWeights[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            string N(string pattern) => TensorNames.ForLayer(pattern, i);
            var wq = Require(N(names.Wq));
            var wk = Require(N(names.Wk));
            layers[i] = new LayerWeights
            {
                AttentionNorm = Vector(N(names.AttentionNorm)),
                Wq = new Linear(adaptQuery?.Invoke(wq, config.Heads) ?? wq),
                Wk = new Linear(adaptKey?.Invoke(wk, config.KvHeads) ?? wk),
                Wv = Matrix(N(names.Wv)),
                Wo = Matrix(N(names.Wo)),
                FfnNorm = Vector(N(names.FfnNorm)),
                W1 = Matrix(N(names.W1Gate)),
                W2 = Matrix(N(names.W2Down)),
                W3 = Matrix(N(names.W3Up)),
            };
        }
        var weights = new LlamaWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = Vector(names.OutputNorm),
            Output = new Linear(find(names.Output) ?? embedding), // tied embeddings when no separate output
        };
        weights.Validate(config, source);
        return weights;
    }

    public static void CheckVocabulary(Tokenizer? tokenizer, LlamaConfig config, string source)
    {
        if (tokenizer != null && tokenizer.VocabSize != config.VocabSize)
            throw new ModelFormatException($"{source}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary is {config.VocabSize}: wrong tokenizer for this model");
    }

    /// <summary>A tokenizer named on the command line: llama2.c tokenizer.bin or SentencePiece tokenizer.model.</summary>
    public static Tokenizer LoadTokenizerFile(string path, int vocabSize)
    {
        using (var fs = File.OpenRead(path))
        {
            // A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A.
            if (fs.ReadByte() == 0x0A)
                return Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(path));
        }
        return Tokenizer.Create(TokenizerLoader.FromLlama2cTokenizer(path, vocabSize));
    }
}
