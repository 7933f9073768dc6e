using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Camelid.Tensors.Threading;

/// <summary>A slice of parallel work: handles the indices [start, end).</summary>
/// <remarks>Implement it on a struct that carries raw pointers (not spans) to its buffers; the pool
/// runs it on several threads at once, so Execute must only write to disjoint outputs.</remarks>
public interface IParallelBody
{
    void Execute(int start, int end);
}

/// <summary>
/// A fixed set of compute threads for the kernels: <c>threads - 1</c> dedicated workers plus the calling
/// thread. <see cref="For{TBody}"/> splits [0, count) into contiguous chunks that the threads take in turn,
/// and returns when all chunks are done. A call allocates nothing: the body is a generic struct reached
/// through a pointer to a stack copy and a function pointer to <see cref="Invoke{TBody}"/>.
/// </summary>
/// <remarks>
/// Calls from several threads are serialised. A call made from inside a body (nested) runs inline on
/// that thread. The first exception thrown by any chunk stops the hand-out of further chunks and is
/// rethrown on the caller with its original stack trace.
/// </remarks>
public sealed unsafe class ComputePool : IDisposable
{
    /// <summary>Chunks per thread: more than one so that a thread slowed by another process does not
    /// hold up the rest (the machine is shared), few enough that hand-out costs nothing.</summary>
    const int ChunksPerThread = 4;

    readonly Thread[] _workers;
    readonly SemaphoreSlim[] _wake;
    readonly object _callLock = new();

    [ThreadStatic] static ComputePool? t_executing;

    // The job in progress; written by the caller before the workers are woken.
    delegate*<void*, int, int, void> _invoke;
    void* _body;
    int _count, _chunkCount, _chunkSize;
    int _nextChunk;
    int _runningWorkers;
    int _helpers;            // workers taking part in the current job
    int _epoch;              // incremented per job; spinning workers watch it
    readonly int[] _sleeping; // 1 while worker i is (about to be) blocked on its semaphore

    /// <summary>How long an idle worker spins before blocking: long enough to span the gaps between the
    /// matrix products of one token, so decoding never pays a kernel wake-up, short enough to go quiet
    /// soon after generation stops.</summary>
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 1000;
    Exception? _failure;
    volatile bool _disposed;

    public ComputePool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int index = i;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"camelid-compute-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that run a <see cref="For{TBody}"/>, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <c>body.Execute</c> over [0, count) split into contiguous chunks across the threads.
    /// Changes the body makes to its own fields are copied back into <paramref name="body"/>.</summary>
    public void For<TBody>(int count, ref TBody body) where TBody : struct, IParallelBody
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count == 0)
            return;
        if (Threads == 1 || count == 1 || t_executing == this)
        {
            body.Execute(0, count);
            return;
        }

        lock (_callLock)
        {
            TBody local = body; // a stack copy cannot be moved by the GC while the workers read it
            int chunkSize = Math.Max(1, (count + Threads * ChunksPerThread - 1) / (Threads * ChunksPerThread));
            _invoke = &Invoke<TBody>;
            _body = Unsafe.AsPointer(ref local);
            _count = count;
            _chunkSize = chunkSize;
            _chunkCount = (count + chunkSize - 1) / chunkSize;
            _nextChunk = 0;
            _failure = null;
            int helpers = Math.Min(_workers.Length, _chunkCount - 1);
            _helpers = helpers;
            _runningWorkers = helpers;
            Interlocked.Increment(ref _epoch);
            for (int i = 0; i < helpers; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _wake[i].Release();

            RunChunks();
            WaitForWorkers();

            _body = null;
            body = local;
            if (_failure is { } failure)
            {
                _failure = null;
                ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
    }

    /// <summary>The caller has run out of chunks; the workers are finishing their last ones, which takes
    /// about one chunk's time. Spinning (yielding, never sleeping) keeps that wait short and allocation-free.</summary>
    void WaitForWorkers()
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref _runningWorkers) != 0)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    static void Invoke<TBody>(void* body, int start, int end) where TBody : struct, IParallelBody
        => Unsafe.AsRef<TBody>(body).Execute(start, end);

    void RunChunks()
    {
        var previous = t_executing;
        t_executing = this;
        try
        {
            while (true)
            {
                int chunk = Interlocked.Increment(ref _nextChunk) - 1;
                if (chunk >= _chunkCount)
                    break;
                int start = chunk * _chunkSize;
                int end = Math.Min(_count, start + _chunkSize);
                _invoke(_body, start, end);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            Volatile.Write(ref _nextChunk, int.MaxValue / 2); // stop handing out chunks
        }
        finally
        {
            t_executing = previous;
        }
    }

    void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            WaitForJob(index, seen);
            seen = Volatile.Read(ref _epoch);
            if (_disposed)
                return;
            if (index < Volatile.Read(ref _helpers))
            {
                RunChunks();
                Interlocked.Decrement(ref _runningWorkers);
            }
        }
    }

    /// <summary>Spins until the epoch moves past <paramref name="seen"/>, then blocks. The sleeping flag is set
    /// before the epoch is re-read and cleared by whichever side sees it first, so a job is never missed and a
    /// semaphore release is always consumed.</summary>
    void WaitForJob(int index, int seen)
    {
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
        var spinner = new SpinWait(); // yields now and then, so a busy or oversubscribed machine loses little
        while (Volatile.Read(ref _epoch) == seen)
        {
            if (System.Diagnostics.Stopwatch.GetTimestamp() < until)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            Interlocked.Exchange(ref _sleeping[index], 1);
            if (Volatile.Read(ref _epoch) != seen && Interlocked.Exchange(ref _sleeping[index], 0) == 1)
                return; // the job arrived first and nobody will release us
            _wake[index].Wait();
            return;
        }
    }

    /// <summary>Stops and joins the worker threads. Must not be called while a <see cref="For{TBody}"/> runs.</summary>
    public void Dispose()
    {
        lock (_callLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            Interlocked.Increment(ref _epoch);
            for (int i = 0; i < _wake.Length; i++)
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _wake[i].Release();
        }
        foreach (var worker in _workers)
            worker.Join();
        foreach (var wake in _wake)
            wake.Dispose();
    }
}
