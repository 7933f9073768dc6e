// llama2.c checkpoints (karpathy/llama2.c: run.c reads them, export.py writes them), little-endian.
// Version 0 ("legacy", what run.c reads and the tinyllamas are published in):
//   7 x i32: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//     (a negative vocab_size means the file ends with its own classifier; positive: shared with the embedding)
//   f32 arrays, row-major, each matrix (out, in), all layers of one kind together:
//     token_embedding (vocab, dim) | rms_att (L, dim) | wq (L, n_heads*head_size, dim) | wk (L, kv_dim, dim) |
//     wv (L, kv_dim, dim) | wo (L, dim, n_heads*head_size) | rms_ffn (L, dim) | w1 (L, hidden, dim) |
//     w2 (L, dim, hidden) | w3 (L, hidden, dim) | rms_final (dim) |
//     freq_cis_real, freq_cis_imag (seq_len * head_size/2 each; RoPE tables that run.c skips) |
//     wcls (vocab, dim) only when vocab_size was negative
//   where head_size = dim / n_heads and kv_dim = head_size * n_kv_heads.
// Version 1 (export.py version1_export): a 256-byte header: u32 magic "ak42" (0x616b3432), i32 version = 1,
//   the same 7 x i32 (vocab_size positive), u8 shared_classifier, zero padding; then f32 arrays:
//   rms_att | rms_ffn | rms_final | token_embedding | wq | wk | wv | wo | w1 | w2 | w3 | wcls if not shared.
// Version 2 (int8 groups with separate scales) is not read: it is not ggml's Q8_0 layout.
// Tensors are views into a memory map, named with Meta's names (tok_embeddings.weight, layers.{i}.attention.wq.weight, ...).
using Camelid.Tensors.Quant;

namespace Camelid.Formats.Llama2c;

/// <summary>The hyper-parameters stored in a llama2.c checkpoint; <see cref="VocabSize"/> is always positive.</summary>
public sealed record Llama2cHeader(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int SeqLen, bool SharedClassifier)
{
    public int HeadSize => Dim / Heads;
    public int KvDim => HeadSize * KvHeads;

    public override string ToString() =>
        $"dim={Dim}, hidden_dim={HiddenDim}, n_layers={Layers}, n_heads={Heads}, n_kv_heads={KvHeads}, vocab_size={VocabSize}, seq_len={SeqLen}, shared_classifier={SharedClassifier}";
}

/// <summary>One f32 array of a checkpoint: a weight, or (IsWeight false) one of version 0's RoPE tables that run.c skips.</summary>
public sealed record Llama2cArray(string Name, long[] Shape, bool IsWeight = true)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

public sealed class Llama2cCheckpoint : IDisposable
{
    public const uint Magic = 0x616b3432; // "ak42" read as little-endian u32
    public const int LegacyHeaderBytes = 7 * 4;
    public const int VersionedHeaderBytes = 256;

    readonly MappedFile _file;
    readonly Dictionary<string, TensorEntry> _byName;

    public string Path => _file.Path;

    /// <summary>0 for the legacy layout run.c reads, 1 for export.py's version-1 layout.</summary>
    public int Version { get; }

    public Llama2cHeader Header { get; }
    public IReadOnlyList<TensorEntry> Tensors { get; }

    Llama2cCheckpoint(MappedFile file, int version, Llama2cHeader header, List<TensorEntry> tensors)
    {
        _file = file;
        Version = version;
        Header = header;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name);
    }

    public TensorEntry? Find(string name) => _byName.GetValueOrDefault(name);

    public static Llama2cCheckpoint Open(string path) => MappedFile.OpenAndParse(path, Parse);

    /// <summary>
    /// The header of a legacy (version 0) file, or null with the reason when the first 28 bytes cannot be one;
    /// used to recognise the format, which has no magic number.
    /// </summary>
    public static Llama2cHeader? TryReadLegacyHeader(ReadOnlySpan<byte> first28Bytes, out string? problem)
    {
        if (first28Bytes.Length < LegacyHeaderBytes)
        {
            problem = $"{first28Bytes.Length} bytes is too short for the 28-byte llama2.c header";
            return null;
        }
        var v = new int[7];
        for (int i = 0; i < 7; i++)
            v[i] = BitConverter.ToInt32(first28Bytes.Slice(4 * i, 4));
        if (v[5] == int.MinValue)
        {
            problem = "vocab_size is -2^31";
            return null;
        }
        var header = new Llama2cHeader(v[0], v[1], v[2], v[3], v[4], Math.Abs(v[5]), v[6], SharedClassifier: v[5] > 0);
        problem = HeaderProblem(header);
        return problem == null ? header : null;
    }

    /// <summary>Why these hyper-parameters cannot describe a LLaMA model, or null if they can.</summary>
    public static string? HeaderProblem(Llama2cHeader h)
    {
        // Upper bounds far above any published LLaMA (dim 16384, hidden 53248, 126 layers, vocab 256k) yet small
        // enough that the size arithmetic below cannot overflow and random bytes are unlikely to pass.
        if (h.Dim <= 0 || h.Dim > 1 << 16) return $"dim={h.Dim} is not in 1..65536";
        if (h.HiddenDim <= 0 || h.HiddenDim > 1 << 20) return $"hidden_dim={h.HiddenDim} is not in 1..2^20";
        if (h.Layers <= 0 || h.Layers > 1024) return $"n_layers={h.Layers} is not in 1..1024";
        if (h.Heads <= 0 || h.Heads > h.Dim) return $"n_heads={h.Heads} is not in 1..dim";
        if (h.KvHeads <= 0 || h.KvHeads > h.Heads) return $"n_kv_heads={h.KvHeads} is not in 1..n_heads";
        if (h.VocabSize <= 0 || h.VocabSize > 1 << 24) return $"vocab_size={h.VocabSize} is not in 1..2^24";
        if (h.SeqLen <= 0 || h.SeqLen > 1 << 24) return $"seq_len={h.SeqLen} is not in 1..2^24";
        if (h.Dim % h.Heads != 0) return $"dim={h.Dim} is not a multiple of n_heads={h.Heads}";
        if (h.Heads % h.KvHeads != 0) return $"n_heads={h.Heads} is not a multiple of n_kv_heads={h.KvHeads}";
        return null;
    }

    /// <summary>The exact file size a header implies, in bytes.</summary>
    public static long ExpectedFileSize(Llama2cHeader h, int version)
    {
        long floats = WeightFloats(h);
        if (version == 0)
            floats += 2L * h.SeqLen * (h.HeadSize / 2); // freq_cis_real + freq_cis_imag
        if (!h.SharedClassifier)
            floats += (long)h.VocabSize * h.Dim;
        return (version == 0 ? LegacyHeaderBytes : VersionedHeaderBytes) + 4 * floats;
    }

    /// <summary>Floats of every weight but the RoPE tables and a separate classifier.</summary>
    static long WeightFloats(Llama2cHeader h)
    {
        long dim = h.Dim, kvDim = h.KvDim, hidden = h.HiddenDim, layers = h.Layers;
        long perLayer = dim                  // rms_att
            + dim * dim + 2 * kvDim * dim    // wq, wk, wv
            + dim * dim                      // wo
            + dim                            // rms_ffn
            + 3 * hidden * dim;              // w1, w2, w3
        return (long)h.VocabSize * dim + layers * perLayer + dim;
    }

    static unsafe Llama2cCheckpoint Parse(MappedFile file)
    {
        string p = file.Path;
        if (file.Length < LegacyHeaderBytes)
            throw new ModelFormatException($"{p}: {file.Length} bytes is too short for a llama2.c checkpoint (28-byte header); the file is truncated or not a model");
        var head = file.Span(0, LegacyHeaderBytes);
        return BitConverter.ToUInt32(head) == Magic ? ParseVersioned(file) : ParseLegacy(file, head);
    }

    static Llama2cCheckpoint ParseLegacy(MappedFile file, ReadOnlySpan<byte> head)
    {
        string p = file.Path;
        var header = TryReadLegacyHeader(head, out var problem)
            ?? throw new ModelFormatException($"{p}: not a llama2.c checkpoint: {problem} (read from the first 28 bytes)");
        long expected = ExpectedFileSize(header, 0);
        if (file.Length != expected)
        {
            long otherVariant = ExpectedFileSize(header with { SharedClassifier = !header.SharedClassifier }, 0);
            string hint = file.Length == otherVariant
                ? $"; that size fits a file {(header.SharedClassifier ? "with" : "without")} a separate classifier, but the sign of vocab_size says otherwise, so the header is corrupted"
                : file.Length < expected ? ": truncated, or not a llama2.c checkpoint" : ": trailing data, or not a llama2.c checkpoint";
            throw new ModelFormatException($"{p}: expected {expected} bytes for {header}, got {file.Length}{hint}");
        }
        var layout = new Layout(file, LegacyHeaderBytes, header);
        layout.TakeAll(FileOrder(header, 0));
        return new Llama2cCheckpoint(file, 0, header, layout.Tensors);
    }

    static Llama2cCheckpoint ParseVersioned(MappedFile file)
    {
        string p = file.Path;
        if (file.Length < VersionedHeaderBytes)
            throw new ModelFormatException($"{p}: {file.Length} bytes is too short for a llama2.c version-1 header (256 bytes); the file is truncated");
        var head = file.Span(0, VersionedHeaderBytes);
        int version = BitConverter.ToInt32(head.Slice(4, 4));
        if (version != 1)
            throw new ModelFormatException(version == 2
                ? $"{p}: llama2.c version-2 (int8) checkpoints are not supported; export with --version 0 or 1, or convert the model to GGUF"
                : $"{p}: llama2.c checkpoint version {version} is unknown (versions 0 and 1 are read)");
        var v = new int[7];
        for (int i = 0; i < 7; i++)
            v[i] = BitConverter.ToInt32(head.Slice(8 + 4 * i, 4));
        byte shared = head[36];
        if (shared > 1)
            throw new ModelFormatException($"{p}: shared_classifier flag is {shared} (must be 0 or 1); the header is corrupted");
        var header = new Llama2cHeader(v[0], v[1], v[2], v[3], v[4], v[5], v[6], shared == 1);
        if (HeaderProblem(header) is { } problem)
            throw new ModelFormatException($"{p}: the llama2.c version-1 header is corrupted: {problem}");
        long expected = ExpectedFileSize(header, 1);
        if (file.Length != expected)
            throw new ModelFormatException($"{p}: expected {expected} bytes for {header} (version 1), got {file.Length}: {(file.Length < expected ? "truncated" : "trailing data")}, or not a llama2.c checkpoint");

        var layout = new Layout(file, VersionedHeaderBytes, header);
        layout.TakeAll(FileOrder(header, 1));
        return new Llama2cCheckpoint(file, 1, header, layout.Tensors);
    }

    /// <summary>
    /// The f32 arrays of a checkpoint in file order (the header comment's layout), each weight under Meta's name;
    /// version 0's RoPE tables are listed as arrays that are not weights. A separate classifier comes last; a shared one is absent.
    /// </summary>
    public static IEnumerable<Llama2cArray> FileOrder(Llama2cHeader h, int version)
    {
        long dim = h.Dim, kvDim = h.KvDim, hidden = h.HiddenDim;
        IEnumerable<Llama2cArray> PerLayer(string suffix, params long[] shape) =>
            Enumerable.Range(0, h.Layers).Select(i => new Llama2cArray($"layers.{i}.{suffix}", shape));
        Llama2cArray Single(string name, params long[] shape) => new(name, shape);

        IEnumerable<Llama2cArray> arrays = version switch
        {
            0 => [
                Single("tok_embeddings.weight", h.VocabSize, dim),
                .. PerLayer("attention_norm.weight", dim),
                .. PerLayer("attention.wq.weight", dim, dim),
                .. PerLayer("attention.wk.weight", kvDim, dim),
                .. PerLayer("attention.wv.weight", kvDim, dim),
                .. PerLayer("attention.wo.weight", dim, dim),
                .. PerLayer("ffn_norm.weight", dim),
                .. PerLayer("feed_forward.w1.weight", hidden, dim),
                .. PerLayer("feed_forward.w2.weight", dim, hidden),
                .. PerLayer("feed_forward.w3.weight", hidden, dim),
                Single("norm.weight", dim),
                new Llama2cArray("freq_cis_real", [h.SeqLen, h.HeadSize / 2], IsWeight: false),
                new Llama2cArray("freq_cis_imag", [h.SeqLen, h.HeadSize / 2], IsWeight: false),
            ],
            1 => [
                .. PerLayer("attention_norm.weight", dim),
                .. PerLayer("ffn_norm.weight", dim),
                Single("norm.weight", dim),
                Single("tok_embeddings.weight", h.VocabSize, dim),
                .. PerLayer("attention.wq.weight", dim, dim),
                .. PerLayer("attention.wk.weight", kvDim, dim),
                .. PerLayer("attention.wv.weight", kvDim, dim),
                .. PerLayer("attention.wo.weight", dim, dim),
                .. PerLayer("feed_forward.w1.weight", hidden, dim),
                .. PerLayer("feed_forward.w2.weight", dim, hidden),
                .. PerLayer("feed_forward.w3.weight", hidden, dim),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "llama2.c checkpoint versions 0 and 1 have this layout"),
        };
        return h.SharedClassifier ? arrays : arrays.Append(Single("output.weight", h.VocabSize, dim));
    }

    /// <summary>Hands out consecutive f32 views of the file; the size check above guarantees they fit.</summary>
    sealed unsafe class Layout(MappedFile file, long start, Llama2cHeader header)
    {
        long _position = start;
        public List<TensorEntry> Tensors { get; } = [];

        public void Take(string name, params long[] shape)
        {
            long bytes = 4 * shape.Aggregate(1L, (a, b) => a * b);
            if (bytes > file.Length - _position)
                throw new ModelFormatException($"{file.Path}: tensor '{name}' runs past the end of the file");
            Tensors.Add(new TensorEntry(name, GgmlType.F32, shape, file.Pointer + _position, bytes, file));
            _position += bytes;
        }

        public void TakeAll(IEnumerable<Llama2cArray> arrays)
        {
            foreach (var array in arrays)
                if (array.IsWeight)
                    Take(array.Name, array.Shape);
                else
                    _position += 4 * array.Elements;
            Classifier();
        }

        /// <summary>A shared classifier is the embedding, listed again as output.weight.</summary>
        void Classifier()
        {
            if (!header.SharedClassifier)
                return;
            var embedding = Tensors.First(t => t.Name == "tok_embeddings.weight");
            Tensors.Add(new TensorEntry("output.weight", GgmlType.F32, embedding.Shape, embedding.Pointer, embedding.ByteCount, file));
        }
    }

    public void Dispose() => _file.Dispose();
}
