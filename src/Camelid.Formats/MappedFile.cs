using System.IO.MemoryMappedFiles;

namespace Camelid.Formats;

/// <summary>
/// A read-only memory map of a whole file. Tensors are views into it: no copy is made, and the
/// pages are shared with the OS page cache, so a model loads in the time it takes to parse its header.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    byte* _pointer;

    public string Path { get; }
    public long Length { get; }
    public byte* Pointer => _pointer != null || Length == 0 ? _pointer : throw new ObjectDisposedException(Path);

    public MappedFile(string path)
    {
        Path = path;
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: file not found");
        Length = new FileInfo(path).Length;
        if (Length == 0)
            return; // an empty file cannot be mapped; readers report it as truncated
        try
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
            _pointer += _view.PointerOffset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw new ModelFormatException($"{path}: cannot open ({e.Message})", e);
        }
    }

    /// <summary>A span over part of the file; throws a format error instead of reading outside it.</summary>
    /// <summary>Maps <paramref name="path"/> and hands it to a parser that takes ownership; unmaps it if parsing fails.</summary>
    public static T OpenAndParse<T>(string path, Func<MappedFile, T> parse)
    {
        var file = new MappedFile(path);
        try
        {
            return parse(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ReadOnlySpan<byte> Span(long offset, long count)
    {
        if (offset < 0 || count < 0 || offset > Length - count)
            throw new ModelFormatException($"{Path}: range [{offset}, {offset + count}) lies outside the file ({Length} bytes); the file is truncated or corrupted");
        if (count > int.MaxValue)
            throw new ModelFormatException($"{Path}: a single region of {count} bytes is larger than 2 GiB, which a span cannot address");
        return new ReadOnlySpan<byte>(_pointer + offset, (int)count);
    }

    public void Dispose()
    {
        if (_view != null && _pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}
