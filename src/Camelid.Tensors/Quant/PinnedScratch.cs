using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Camelid.Tensors.Quant;

/// <summary>Grow-only scratch arrays on the pinned object heap, so kernels can hand raw pointers to
/// other threads; a call allocates only when a larger shape than ever before comes along.</summary>
internal static unsafe class PinnedScratch
{
    public static T* Ensure<T>(ref T[]? array, long length) where T : unmanaged
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"scratch of {length} elements is too large");
        if (array is null || array.Length < length)
            array = GC.AllocateUninitializedArray<T>((int)Math.Max(length, 64), pinned: true);
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
    }
}
