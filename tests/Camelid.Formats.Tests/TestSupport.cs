using System.Diagnostics;
using System.Text;
using Camelid.Tests;

namespace Camelid.Formats.Tests;

/// <summary>A temporary folder for hand-built files, deleted when the test ends.</summary>
sealed class TempDir : IDisposable
{
    public string Path { get; }

    public TempDir(string name) => Path = TestPaths.NewTempDir(name);

    public string File(string name, byte[] bytes)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public string File(string name, string text) => File(name, Encoding.UTF8.GetBytes(text));

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { } // a mapped file may still be closing; the OS cleans temp eventually
    }
}

/// <summary>
/// Runs a reader on bad input with a time limit and an allocation limit, and checks that the only outcome
/// is a ModelFormatException (or, for fuzzed input that happens to stay valid, a successful open).
/// </summary>
static class Hostile
{
    public const long MaxAllocatedBytes = 64L << 20;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    static long _largestAllocation;

    /// <summary>The most any single case has allocated so far in this test run (printed by some tests).</summary>
    public static long LargestAllocation => Interlocked.Read(ref _largestAllocation);

    public static (Exception? Error, long Allocated) Run(Action open, string what)
    {
        Exception? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { open(); }
            catch (Exception e) { error = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true };
        var clock = Stopwatch.StartNew();
        thread.Start();
        if (!thread.Join(Timeout))
            Assert.Fail($"{what}: the reader did not finish within {Timeout.TotalSeconds} s (a hang)");
        for (long seen = LargestAllocation; allocated > seen; seen = LargestAllocation)
            if (Interlocked.CompareExchange(ref _largestAllocation, allocated, seen) == seen)
                break;
        Assert.True(allocated < MaxAllocatedBytes, $"{what}: the reader allocated {allocated / (1 << 20)} MiB (limit {MaxAllocatedBytes >> 20} MiB)");
        return (error, allocated);
    }

    /// <summary>The reader must fail with a ModelFormatException.</summary>
    public static ModelFormatException Rejects(Action open, string what)
    {
        var (error, _) = Run(open, what);
        return error switch
        {
            ModelFormatException e => e,
            null => throw new Xunit.Sdk.XunitException($"{what}: the reader accepted it"),
            _ => throw new Xunit.Sdk.XunitException($"{what}: expected ModelFormatException, got {error.GetType().Name}: {error}"),
        };
    }

    /// <summary>The reader must either succeed or fail with a ModelFormatException; returns true if it succeeded.</summary>
    public static bool OpensOrRejects(Action open, string what)
    {
        var (error, _) = Run(open, what);
        if (error is null)
            return true;
        if (error is ModelFormatException)
            return false;
        throw new Xunit.Sdk.XunitException($"{what}: expected success or ModelFormatException, got {error.GetType().Name}: {error}");
    }

    /// <summary>Reads every byte of every tensor, so a view that points outside the file would crash the test.</summary>
    public static long Touch(IEnumerable<TensorEntry> tensors)
    {
        long sum = 0;
        foreach (var t in tensors)
            for (long r = 0; r < t.Rows && t.ByteCount > 0; r++)
                foreach (byte b in t.RowBytes(r, 1))
                    sum += b;
        return sum;
    }

    /// <summary>Cut points to try on a file: every byte in the first <paramref name="dense"/>, then a spread through the rest.</summary>
    public static IEnumerable<int> CutPoints(int length, int dense, int sparse)
    {
        var cuts = new SortedSet<int>();
        for (int i = 0; i < Math.Min(dense, length); i++)
            cuts.Add(i);
        for (int k = 0; k < sparse; k++)
            cuts.Add((int)((long)length * k / sparse));
        cuts.Add(length - 1);
        cuts.Remove(length);
        return cuts;
    }
}

/// <summary>Little-endian byte builder for hand-made files, independent of the writers under test.</summary>
sealed class Bytes
{
    readonly MemoryStream _stream = new();
    public long Length => _stream.Length;

    public Bytes U8(byte v) { _stream.WriteByte(v); return this; }
    public Bytes U32(uint v) { _stream.Write(BitConverter.GetBytes(v)); return this; }
    public Bytes I32(int v) { _stream.Write(BitConverter.GetBytes(v)); return this; }
    public Bytes U64(ulong v) { _stream.Write(BitConverter.GetBytes(v)); return this; }
    public Bytes F32(float v) { _stream.Write(BitConverter.GetBytes(v)); return this; }
    public Bytes Raw(byte[] v) { _stream.Write(v); return this; }
    public Bytes Raw(string ascii) { _stream.Write(Encoding.UTF8.GetBytes(ascii)); return this; }
    public Bytes Zeros(int n) { _stream.Write(new byte[n]); return this; }
    public Bytes PadTo(int alignment) { while (_stream.Length % alignment != 0) _stream.WriteByte(0); return this; }

    /// <summary>A GGUF string: u64 byte length + UTF-8.</summary>
    public Bytes Str(string s) { var b = Encoding.UTF8.GetBytes(s); U64((ulong)b.Length); return Raw(b); }

    public byte[] ToArray() => _stream.ToArray();
}
