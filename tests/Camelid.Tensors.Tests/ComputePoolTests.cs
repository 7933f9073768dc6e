using Camelid.Tensors.Threading;

namespace Camelid.Tensors.Tests;

public unsafe class ComputePoolTests
{
    /// <summary>Marks every index it is given; counts how many chunks ran and on how many threads.</summary>
    struct MarkBody : IParallelBody
    {
        public int* Hits;
        public int* Chunks;
        public int* CallerChunks;
        public int CallerThread;
        public int ThrowAt;

        public void Execute(int start, int end)
        {
            Assert.True(start < end);
            Interlocked.Increment(ref *Chunks);
            if (Environment.CurrentManagedThreadId == CallerThread) Interlocked.Increment(ref *CallerChunks);
            for (int i = start; i < end; i++)
            {
                if (i == ThrowAt) throw new InvalidOperationException($"boom at {i}");
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(1, 100)]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]      // fewer items than threads
    [InlineData(2, 7)]
    [InlineData(4, 1000)]
    [InlineData(2, 100_003)]
    public void For_RunsEveryIndexExactlyOnce(int threads, int count)
    {
        using var pool = new ComputePool(threads);
        Assert.Equal(threads, pool.Threads);
        var hits = new int[Math.Max(count, 1)];
        int chunks = 0, callerChunks = 0;
        fixed (int* h = hits)
        {
            var body = new MarkBody { Hits = h, Chunks = &chunks, CallerChunks = &callerChunks, CallerThread = Environment.CurrentManagedThreadId, ThrowAt = -1 };
            for (int repeat = 0; repeat < 3; repeat++)
                pool.For(count, ref body);
        }
        for (int i = 0; i < count; i++)
            Assert.Equal(3, hits[i]);
        if (count == 0) Assert.Equal(0, chunks);
    }

    [Fact]
    public void For_RethrowsWorkerExceptionOnCallerAndStaysUsable()
    {
        using var pool = new ComputePool(2);
        var hits = new int[1000];
        int chunks = 0, callerChunks = 0;
        fixed (int* h = hits)
        {
            for (int throwAt = 0; throwAt < 1000; throwAt += 111)
            {
                var body = new MarkBody { Hits = h, Chunks = &chunks, CallerChunks = &callerChunks, CallerThread = Environment.CurrentManagedThreadId, ThrowAt = throwAt };
                var e = Assert.Throws<InvalidOperationException>(() => pool.For(1000, ref body));
                Assert.Equal($"boom at {throwAt}", e.Message);
            }
            Array.Clear(hits);
            var ok = new MarkBody { Hits = h, Chunks = &chunks, CallerChunks = &callerChunks, CallerThread = Environment.CurrentManagedThreadId, ThrowAt = -1 };
            pool.For(1000, ref ok);
        }
        Assert.All(hits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void For_UsesBothTheCallerAndTheWorkers()
    {
        using var pool = new ComputePool(2);
        var threadIds = new int[64];
        int firstThread = 0, secondSeen = 0;
        fixed (int* ids = threadIds)
        {
            var body = new ThreadRecorder { Ids = ids, FirstThread = &firstThread, SecondThreadSeen = &secondSeen };
            pool.For(64, ref body);
        }
        Assert.Contains(Environment.CurrentManagedThreadId, threadIds);
        Assert.True(threadIds.Distinct().Count() == 2, "both the caller and the worker thread should take chunks");
    }

    /// <summary>Each chunk records its thread, then waits (up to 5 s) until chunks have started on two
    /// different threads, so the test does not depend on how fast the OS schedules the worker.</summary>
    struct ThreadRecorder : IParallelBody
    {
        public int* Ids;
        public int* FirstThread;
        public int* SecondThreadSeen;

        public void Execute(int start, int end)
        {
            int me = Environment.CurrentManagedThreadId;
            int first = Interlocked.CompareExchange(ref *FirstThread, me, 0);
            if (first != 0 && first != me)
                Volatile.Write(ref *SecondThreadSeen, 1);
            var deadline = Environment.TickCount64 + 5000;
            while (Volatile.Read(ref *SecondThreadSeen) == 0 && Environment.TickCount64 < deadline)
                Thread.Yield();
            for (int i = start; i < end; i++)
                Ids[i] = me;
        }
    }

    struct SumBody : IParallelBody
    {
        public long Total;
        public ComputePool Pool;
        public void Execute(int start, int end)
        {
            // A nested For runs inline on this thread.
            var inner = new CountBody();
            Pool.For(10, ref inner);
            Interlocked.Add(ref Total, inner.Count * (end - start));
        }
    }

    struct CountBody : IParallelBody
    {
        public int Count;
        public void Execute(int start, int end) => Count += end - start;
    }

    [Fact]
    public void For_NestedCallRunsInlineAndBodyChangesAreCopiedBack()
    {
        using var pool = new ComputePool(2);
        var body = new SumBody { Pool = pool };
        pool.For(100, ref body);
        Assert.Equal(1000, body.Total);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<Thread, bool> SeenThreads = new();

    struct ThreadCollector : IParallelBody
    {
        public void Execute(int start, int end)
        {
            SeenThreads[Thread.CurrentThread] = true;
            var deadline = Environment.TickCount64 + 5000; // until a worker has joined in
            while (SeenThreads.Count < 2 && Environment.TickCount64 < deadline)
                Thread.Yield();
        }
    }

    [Fact]
    public void Dispose_JoinsWorkersAndLaterCallsThrow()
    {
        var pool = new ComputePool(3);
        var collector = new ThreadCollector();
        pool.For(300, ref collector);
        var workers = SeenThreads.Keys.Where(t => t != Thread.CurrentThread && t.Name?.StartsWith("camelid-compute") == true).ToList();
        Assert.NotEmpty(workers);
        pool.Dispose();
        Assert.All(workers, t => Assert.False(t.IsAlive, $"{t.Name} still running after Dispose"));
        pool.Dispose(); // idempotent
        var body = new CountBody();
        Assert.Throws<ObjectDisposedException>(() => pool.For(5, ref body));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ComputePool(0));
    }

    struct HitBody : IParallelBody
    {
        public int[] Hits;
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
                Interlocked.Increment(ref Hits[i]);
        }
    }

    /// <summary>Workers spin between jobs and block when idle for a while: jobs arriving back to back, and
    /// after pauses longer than the spin, must each run every index exactly once and never hang.</summary>
    [Fact]
    public void For_BackToBackAndAfterIdlePauses_RunsEveryJobCompletely()
    {
        var run = Task.Run(() =>
        {
            using var pool = new ComputePool(3);
            var rng = new Random(3);
            for (int job = 0; job < 3000; job++)
            {
                if (job % 250 == 0)
                    Thread.Sleep(5); // longer than the spin: the workers block and must be woken
                int count = rng.Next(1, 40);
                var body = new HitBody { Hits = new int[count] };
                pool.For(count, ref body);
                Assert.All(body.Hits, h => Assert.Equal(1, h));
            }
        });
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), "the pool hung");
        run.GetAwaiter().GetResult();
    }

    [Fact]
    public void For_RejectsNegativeCount()
    {
        using var pool = new ComputePool(2);
        var body = new CountBody();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.For(-1, ref body));
    }
}
