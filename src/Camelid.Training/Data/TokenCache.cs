using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Camelid.Training.Data;

/// <summary>
/// The tokenized examples of a training run on disk (e.g. <c>RUN/data/train.tokens</c>), written once and then read
/// memory-mapped, so a large data set never sits in managed memory as objects. Little-endian layout:
/// <code>
///   offset size
///    0      8   magic "CMLTOKS1"
///    8      4   format version (1)
///   12      4   padding token id (the tokenizer's EOS, or 0)
///   16      8   example count N
///   24      8   token count T
///   32      8   offset of the index
///   40      8   offset of the metadata
///   48      8   metadata length in bytes
///   56      8   reserved (0)
///   64   4×T    tokens, example after example: uint32, bits 0..30 the token id, bit 31 set when the token is a
///               target (the loss is taken on predicting it)
///   index 8×(N+1)  int64 token offset of each example's first token, then T
///   metadata       UTF-8 JSON: <see cref="TokenCacheMetadata"/> (what the cache was built from, the build report)
/// </code>
/// The trained flag rides in the token word rather than a separate bit array so that a writer streams one section,
/// and a reader gets an example's tokens and mask with one read.
/// </summary>
internal sealed class TokenCache : IDisposable
{
    public const int HeaderSize = 64;
    public const int Version = 1;
    public const uint TrainedBit = 0x8000_0000;
    public static ReadOnlySpan<byte> Magic => "CMLTOKS1"u8;

    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    readonly long _indexOffset;

    TokenCache(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, int padToken, long count, long tokens,
               long indexOffset, TokenCacheMetadata metadata)
    {
        Path = path;
        _file = file;
        _view = view;
        PadToken = padToken;
        Count = checked((int)count);
        TokenCount = tokens;
        _indexOffset = indexOffset;
        Metadata = metadata;
    }

    public string Path { get; }
    public int PadToken { get; }
    public int Count { get; }
    public long TokenCount { get; }
    public TokenCacheMetadata Metadata { get; }

    /// <summary>Opens and checks a cache file; <see cref="InvalidDataException"/> says what is wrong with it.</summary>
    public static TokenCache Open(string path)
    {
        long length = new FileInfo(path).Length;
        if (length < HeaderSize)
            throw new InvalidDataException($"{path}: {length} bytes is too short for a token cache; delete it to rebuild");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var header = new byte[HeaderSize];
            view.ReadArray(0, header, 0, HeaderSize);
            if (!header.AsSpan(0, 8).SequenceEqual(Magic))
                throw new InvalidDataException($"{path}: not a Camelid token cache (bad magic); delete it to rebuild");
            int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
            if (version != Version)
                throw new InvalidDataException($"{path}: token cache version {version}, this build reads {Version}; delete it to rebuild");
            int pad = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
            long count = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
            long tokens = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(24));
            long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(32));
            long metaOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(40));
            long metaLength = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(48));
            if (count < 0 || count > int.MaxValue || tokens < 0 || tokens > (length - HeaderSize) / 4 ||
                indexOffset != HeaderSize + 4 * tokens || metaOffset != indexOffset + 8 * (count + 1) ||
                metaLength < 0 || metaOffset + metaLength != length)
                throw new InvalidDataException($"{path}: token cache sections do not add up to the file size {length} (truncated or corrupted); delete it to rebuild");
            var json = new byte[metaLength];
            view.ReadArray(metaOffset, json, 0, json.Length);
            var metadata = TokenCacheMetadata.Parse(json, path);
            var cache = new TokenCache(path, file, view, pad, count, tokens, indexOffset, metadata);
            cache.CheckIndex();
            return cache;
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Token offset of example <paramref name="index"/> (<see cref="Count"/> gives the end).</summary>
    public long Start(int index) => _view.ReadInt64(_indexOffset + 8L * index);

    public int Length(int index) => (int)(Start(index + 1) - Start(index));

    /// <summary>Copies example <paramref name="index"/> into the spans (each at least <see cref="Length"/> long).</summary>
    public void Read(int index, Span<int> tokens, Span<bool> trained)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the cache has {Count} examples");
        long start = Start(index);
        int length = (int)(Start(index + 1) - start);
        var words = new uint[length];
        _view.ReadArray(HeaderSize + 4 * start, words, 0, length);
        for (int i = 0; i < length; i++)
        {
            tokens[i] = (int)(words[i] & ~TrainedBit);
            trained[i] = (words[i] & TrainedBit) != 0;
        }
    }

    public (int[] Tokens, bool[] Trained) Read(int index)
    {
        int length = Length(index);
        var tokens = new int[length];
        var trained = new bool[length];
        Read(index, tokens, trained);
        return (tokens, trained);
    }

    void CheckIndex()
    {
        long previous = 0;
        for (int i = 0; i <= Count; i++)
        {
            long start = Start(i);
            if (start < previous || start > TokenCount || (i == 0 && start != 0) || (i == Count && start != TokenCount))
                throw new InvalidDataException($"{Path}: token cache index entry {i} ({start}) is out of order; delete it to rebuild");
            previous = start;
        }
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}

/// <summary>
/// Writes a <see cref="TokenCache"/>: tokens stream to a temporary file beside the target as examples come, the index
/// and metadata follow at <see cref="Commit"/>, and the finished file is renamed into place, so an interrupted build
/// never leaves a half-written cache that looks valid.
/// </summary>
internal sealed class TokenCacheWriter : IDisposable
{
    readonly string _path;
    readonly string _tempPath;
    readonly FileStream _stream;
    readonly BufferedStream _buffer;
    readonly List<long> _starts = [0];
    readonly int _padToken;
    byte[] _words = new byte[4096];
    long _tokens;
    bool _done;

    public TokenCacheWriter(string path, int padToken)
    {
        _path = System.IO.Path.GetFullPath(path);
        _padToken = padToken;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_path)!);
        _tempPath = $"{_path}.{Guid.NewGuid():N}.tmp";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1);
        _buffer = new BufferedStream(_stream, 1 << 20);
        _buffer.Write(new byte[TokenCache.HeaderSize]);
    }

    public int Count => _starts.Count - 1;

    public void Append(ReadOnlySpan<int> tokens, ReadOnlySpan<bool> trained)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (tokens.Length != trained.Length)
            throw new ArgumentException($"{tokens.Length} tokens but {trained.Length} mask entries");
        if (_words.Length < 4 * tokens.Length)
            _words = new byte[4 * tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i], "token ids are non-negative");
            BinaryPrimitives.WriteUInt32LittleEndian(_words.AsSpan(4 * i), (uint)tokens[i] | (trained[i] ? TokenCache.TrainedBit : 0));
        }
        _buffer.Write(_words, 0, 4 * tokens.Length);
        _tokens += tokens.Length;
        _starts.Add(_tokens);
    }

    public void Commit(TokenCacheMetadata metadata)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        long indexOffset = TokenCache.HeaderSize + 4 * _tokens;
        Span<byte> number = stackalloc byte[8];
        foreach (long start in _starts)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, start);
            _buffer.Write(number);
        }
        long metaOffset = indexOffset + 8L * _starts.Count;
        byte[] json = metadata.ToJson();
        _buffer.Write(json);
        _buffer.Flush();

        var header = new byte[TokenCache.HeaderSize];
        TokenCache.Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), TokenCache.Version);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), _padToken);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), Count);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), _tokens);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), metaOffset);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(48), json.Length);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Flush(flushToDisk: true);
        _buffer.Dispose();
        File.Move(_tempPath, _path, overwrite: true);
        _done = true;
    }

    public void Dispose()
    {
        if (_done)
            return;
        _buffer.Dispose();
        File.Delete(_tempPath);
        _done = true;
    }
}

/// <summary>What a cache was built from (<see cref="Fingerprint"/>) and what building it found.</summary>
internal sealed record TokenCacheMetadata(string Fingerprint, int MaxLength, DataReport Report)
{
    public byte[] ToJson() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(this, DataReport.JsonOptions);

    public static TokenCacheMetadata Parse(byte[] json, string path)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<TokenCacheMetadata>(json, DataReport.JsonOptions)
                ?? throw new InvalidDataException($"{path}: token cache metadata is empty; delete it to rebuild");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: token cache metadata is not valid ({e.Message}); delete it to rebuild", e);
        }
    }
}
