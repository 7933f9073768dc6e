namespace Camelid.Benchmarks;

/// <summary>Which measured peak a kernel's operations are compared with.</summary>
public enum PeakKind { None, Fp32, Int8 }

/// <summary>What one call of a benchmark method moves and computes: the bytes it must read (weights,
/// or the whole operand for memory-bound kernels) and the operations it does (a multiply-add is 2).
/// <paramref name="FromMemory"/>: the benchmark makes sure those bytes are not in any cache, so they can be
/// compared with the memory bandwidth; otherwise they are L1/L2-resident and GB/s is only a speed.</summary>
public readonly record struct Work(double Bytes, double Ops, PeakKind Peak, bool FromMemory = false);

/// <summary>A benchmark class that can say, from its parameters alone (no setup), what each method does.</summary>
public interface IWorkload
{
    Work Work(string method);
}
