// Any model file the engine reads (GGUF, Hugging Face folder, llama2.c checkpoint) seen the same way, for tools that
// rewrite weights (convert, delta): the hyperparameters, the tokenizer's vocabulary, the chat template, and every
// weight under its canonical name (llama.cpp's GGUF name, TensorNames.Gguf) with its rows in Meta's order
// (interleaved RoPE pairs), as views of the mapped file: nothing is read until a row is asked for.
//   GGUF        names and rows as stored; rope_freqs.weight kept; other tensors kept under their own names.
//   HF folder   TensorNames.HuggingFace -> TensorNames.Gguf; q_proj/k_proj rows are HF's rotate-half order, so
//               row r of the canonical tensor is stored row HfRowOf(r) (RotaryRowOrder);
//               tensors outside the name table (e.g. rotary_emb.inv_freq buffers) are listed in Unmapped.
//   llama2.c    TensorNames.Meta -> TensorNames.Gguf; a shared classifier is a tied head (no output.weight).
using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Formats.HuggingFace;
using Camelid.Formats.Llama2c;
using Camelid.Model.Loading;
using Camelid.Model.Adapters;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;

namespace Camelid.Model.Conversion;

/// <summary>One weight under its canonical name, with its rows in Meta's order.</summary>
public sealed class SourceTensor
{
    readonly int _rotaryHeadSize; // > 0: stored rows are HF's rotate-half order within heads of this size
    readonly (LoraMatrix Matrix, float Scale)[] _updates = []; // merged LoRA terms: W + Σ s·B·A

    public string Name { get; }
    public TensorEntry Stored { get; }
    public GgmlType Type => Stored.Type;
    public long[] Shape => Stored.Shape;
    public long Rows => Stored.Rows;
    public int Cols => checked((int)Stored.Cols);
    public long RowBytes => GgmlTypes.RowBytes(Type, Stored.Cols);
    public bool IsPermuted => _rotaryHeadSize > 0;
    /// <summary>LoRA updates are merged into the rows: the stored bytes are no longer the tensor's.</summary>
    public bool IsModified => _updates.Length > 0;

    internal SourceTensor(string name, TensorEntry stored, int rotaryHeadSize = 0)
    {
        Name = name;
        Stored = stored;
        _rotaryHeadSize = rotaryHeadSize;
    }

    SourceTensor(string name, SourceTensor from, (LoraMatrix, float)[] updates) : this(name, from.Stored, from._rotaryHeadSize) => _updates = updates;

    /// <summary>This weight (named <paramref name="name"/>, default its own) plus scale·B·A, merged as its rows are read.</summary>
    public SourceTensor WithLowRankUpdate(LoraMatrix update, float scale, string? name = null)
    {
        if (update.OutFeatures != Rows || update.InFeatures != Cols)
            throw new ArgumentException($"{Name}: the adapter's ({update.OutFeatures}, {update.InFeatures}) does not fit {TensorEntry.FormatShape(Shape)}");
        return new SourceTensor(name ?? Name, this, [.. _updates, (update, scale)]);
    }

    /// <summary>The stored row that holds canonical row <paramref name="row"/>.</summary>
    public long StoredRow(long row) => _rotaryHeadSize == 0 ? row : RotaryRowOrder.HfRowOf(row, _rotaryHeadSize);

    /// <summary>The stored bytes of canonical rows [first, first + count).</summary>
    public void CopyRows(long first, int count, Span<byte> destination)
    {
        if (IsModified)
            throw new InvalidOperationException($"{Name}: an updated tensor has no stored bytes; read its rows");
        if (_rotaryHeadSize == 0)
        {
            Stored.RowBytes(first, count).CopyTo(destination);
            return;
        }
        int rowBytes = (int)RowBytes;
        for (int r = 0; r < count; r++)
            Stored.RowBytes(StoredRow(first + r), 1).CopyTo(destination.Slice(r * rowBytes, rowBytes));
    }

    /// <summary>Canonical rows [first, first + count) as f32: exact for F16/BF16, ggml's dequantization for quantized types.</summary>
    public void ReadRows(long first, int count, Span<float> destination)
    {
        int cols = Cols;
        for (int r = 0; r < count; r++)
            Dequantizer.DequantizeRow(Type, Stored.RowBytes(StoredRow(first + r), 1), destination.Slice(r * cols, cols));
        foreach (var (m, scale) in _updates)
            for (int r = 0; r < count; r++)
            {
                var row = destination.Slice(r * cols, cols);
                long o = first + r;
                for (int j = 0; j < m.Rank; j++)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(m.A.AsSpan(j * cols, cols), scale * m.B[o * m.Rank + j], row, row);
            }
    }

    public override string ToString() => $"{Name} {Type} {TensorEntry.FormatShape(Shape)}";
}

public enum ModelFormat
{
    Gguf,
    HuggingFace,
    Llama2c,
}

public sealed class ModelSource : IDisposable
{
    readonly IDisposable _storage;
    readonly Dictionary<string, SourceTensor> _byName;

    public string Path { get; }
    public ModelFormat Format { get; }
    public LlamaConfig Config { get; }

    /// <summary>Every weight under its canonical name, in the file's order.</summary>
    public IReadOnlyList<SourceTensor> Tensors { get; }

    /// <summary>Stored tensors with no canonical name (not LLaMA weights); tools that change the format drop them.</summary>
    public IReadOnlyList<string> Unmapped { get; }

    public Vocabulary? Vocabulary { get; }

    /// <summary>The tokenizer file a llama2.c checkpoint was read with (given, or found beside it).</summary>
    public string? TokenizerPath { get; }

    public string? ChatTemplate { get; }
    public string Name { get; }

    public GgufFile? Gguf => _storage as GgufFile;
    public HfModelFolder? HfFolder => _storage as HfModelFolder;
    public Llama2cCheckpoint? Llama2c => _storage as Llama2cCheckpoint;

    /// <summary>No output.weight: the classifier is the token embedding.</summary>
    public bool TiedOutput => Find(TensorNames.Gguf.Output) == null;

    ModelSource(string path, ModelFormat format, IDisposable storage, LlamaConfig config, List<SourceTensor> tensors,
        List<string> unmapped, Vocabulary? vocabulary, string? tokenizerPath, string? chatTemplate, string name)
    {
        Path = path;
        Format = format;
        _storage = storage;
        Config = config;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
        Unmapped = unmapped;
        Vocabulary = vocabulary;
        TokenizerPath = tokenizerPath;
        ChatTemplate = chatTemplate;
        Name = name;
        if (vocabulary != null && vocabulary.Tokens.Count != config.VocabSize)
            throw new ModelFormatException($"{path}: the tokenizer has {vocabulary.Tokens.Count} tokens but the model's vocabulary is {config.VocabSize}: wrong tokenizer for this model");
    }

    public SourceTensor? Find(string canonicalName) => _byName.GetValueOrDefault(canonicalName);

    /// <summary>
    /// Merges LoRA adapters into the weights as they are read (W += scale·B·A). A head adapter on a model whose head is
    /// tied to the embedding gives the model its own output.weight, so the embedding stays as it was.
    /// </summary>
    public void MergeAdapters(IReadOnlyList<(LoraAdapter Adapter, float Scale)> adapters)
    {
        var tensors = (List<SourceTensor>)Tensors;
        foreach (var (adapter, scale) in adapters)
            foreach (var m in adapter.Matrices)
            {
                string name = TensorNames.ForLayer(m.Target.GgufName(), m.Layer);
                var current = Find(name);
                if (current == null && m.Target == BlockMatrix.Head)
                {
                    var untied = Find(TensorNames.Gguf.TokenEmbedding)!.WithLowRankUpdate(m, m.Scale * scale, name);
                    tensors.Add(untied);
                    _byName[name] = untied;
                    continue;
                }
                if (current == null)
                    throw new ModelFormatException($"{Path}: the adapter changes {name}, which this model does not have");
                var merged = current.WithLowRankUpdate(m, m.Scale * scale);
                tensors[tensors.IndexOf(current)] = merged;
                _byName[name] = merged;
            }
    }

    /// <param name="tokenizerPath">A tokenizer for a llama2.c checkpoint (default: tok{vocab}.bin or tokenizer.bin beside it),
    /// or one that replaces a GGUF's own.</param>
    public static ModelSource Open(string path, string? tokenizerPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (tokenizerPath != null && !File.Exists(tokenizerPath))
            throw new ModelFormatException($"{tokenizerPath}: tokenizer file not found");
        var kind = ModelFile.Detect(path);
        return kind switch
        {
            ModelFileKind.Gguf => OpenGguf(path, tokenizerPath),
            ModelFileKind.HuggingFaceFolder => OpenHf(path),
            ModelFileKind.Llama2c => OpenLlama2c(path, tokenizerPath),
            _ => throw new ModelFormatException($"{path}: a bare .safetensors file has no config; pass the Hugging Face model folder (with config.json) instead"),
        };
    }

    static ModelSource OpenGguf(string path, string? tokenizerPath)
    {
        var file = GgufFile.Open(path);
        try
        {
            var m = file.Metadata;
            var embedding = file.Find(TensorNames.Gguf.TokenEmbedding)
                ?? throw new ModelFormatException($"{path}: no {TensorNames.Gguf.TokenEmbedding} tensor; this GGUF holds no LLaMA weights");
            var config = LlamaConfig.FromGguf(m, (int)embedding.Rows, file.Find("rope_freqs.weight")?.ToFloats());
            var vocabulary = tokenizerPath != null ? ModelLoader.LoadTokenizerFile(tokenizerPath, config.VocabSize).Vocabulary
                : m.Contains("tokenizer.ggml.model") ? TokenizerLoader.FromGguf(m) : null;
            string name = m.GetStringOrNull("general.name") is { Length: > 0 } n ? n : System.IO.Path.GetFileNameWithoutExtension(path);
            return new ModelSource(path, ModelFormat.Gguf, file, config, file.Tensors.Select(t => new SourceTensor(t.Name, t)).ToList(), [],
                vocabulary, tokenizerPath, m.GetStringOrNull("tokenizer.chat_template"), name);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    static ModelSource OpenHf(string directory)
    {
        var folder = HfModelFolder.Open(directory);
        try
        {
            var config = LlamaConfig.FromHfConfig(folder.Config, System.IO.Path.Combine(directory, HfModelFolder.ConfigFile));
            var canonical = CanonicalNames(TensorNames.HuggingFace, config);
            var tensors = new List<SourceTensor>();
            var unmapped = new List<string>();
            foreach (var t in folder.Tensors)
            {
                if (!canonical.TryGetValue(t.Name, out var name))
                {
                    unmapped.Add(t.Name);
                    continue;
                }
                bool rotary = name.EndsWith("attn_q.weight", StringComparison.Ordinal) || name.EndsWith("attn_k.weight", StringComparison.Ordinal);
                tensors.Add(new SourceTensor(name, t, rotary ? config.HeadSize : 0));
            }
            var vocabulary = folder.TokenizerJsonPath != null ? TokenizerLoader.FromHfTokenizerJson(folder.TokenizerJsonPath, folder.TokenizerConfigPath)
                : folder.TokenizerModelPath != null ? TokenizerLoader.FromSentencePieceModel(folder.TokenizerModelPath) : null;
            return new ModelSource(directory, ModelFormat.HuggingFace, folder, config, tensors, unmapped, vocabulary, null,
                HfModelLoader.ChatTemplateOf(folder.TokenizerConfig), new DirectoryInfo(directory).Name);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    static ModelSource OpenLlama2c(string path, string? tokenizerPath)
    {
        var checkpoint = Llama2cCheckpoint.Open(path);
        try
        {
            var config = LlamaConfig.FromLlama2c(checkpoint.Header, path);
            var canonical = CanonicalNames(TensorNames.Meta, config);
            var tensors = checkpoint.Tensors
                .Where(t => !(checkpoint.Header.SharedClassifier && t.Name == TensorNames.Meta.Output))
                .Select(t => new SourceTensor(canonical[t.Name], t)).ToList();
            tokenizerPath ??= Llama2cModelLoader.FindTokenizerBeside(path, config.VocabSize);
            var vocabulary = tokenizerPath != null ? ModelLoader.LoadTokenizerFile(tokenizerPath, config.VocabSize).Vocabulary : null;
            return new ModelSource(path, ModelFormat.Llama2c, checkpoint, config, tensors, [], vocabulary, tokenizerPath, null,
                System.IO.Path.GetFileNameWithoutExtension(path));
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Every name of <paramref name="from"/> for this model's layers, mapped to its GGUF name.</summary>
    internal static Dictionary<string, string> CanonicalNames(TensorNames from, LlamaConfig config) =>
        NamePairs(from, TensorNames.Gguf, config.Layers).ToDictionary(p => p.From, p => p.To);

    /// <summary>GGUF name -> the name in <paramref name="to"/>, for this model's layers.</summary>
    internal static Dictionary<string, string> NamesIn(TensorNames to, LlamaConfig config) =>
        NamePairs(TensorNames.Gguf, to, config.Layers).ToDictionary(p => p.From, p => p.To);

    static IEnumerable<(string From, string To)> NamePairs(TensorNames from, TensorNames to, int layers)
    {
        yield return (from.TokenEmbedding, to.TokenEmbedding);
        yield return (from.OutputNorm, to.OutputNorm);
        yield return (from.Output, to.Output);
        (string, string)[] perLayer =
        [
            (from.AttentionNorm, to.AttentionNorm), (from.Wq, to.Wq), (from.Wk, to.Wk), (from.Wv, to.Wv), (from.Wo, to.Wo),
            (from.FfnNorm, to.FfnNorm), (from.W1Gate, to.W1Gate), (from.W2Down, to.W2Down), (from.W3Up, to.W3Up),
        ];
        for (int i = 0; i < layers; i++)
            foreach (var (a, b) in perLayer)
                yield return (TensorNames.ForLayer(a, i), TensorNames.ForLayer(b, i));
    }

    public void Dispose() => _storage.Dispose();
}
