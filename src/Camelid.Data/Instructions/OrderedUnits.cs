namespace Camelid.Data.Instructions;

/// <summary>
/// Runs numbered request groups ("units") concurrently but commits their results strictly in order, so that
/// what a run keeps depends only on the teacher's answers, never on which answer came back first. A unit may
/// be started only when every unit more than <c>lag</c> places before it has been committed: with lag L, unit
/// i's prompt can depend on everything committed by units before i − L, and the result is still the same
/// for any timing. On the first failure (or cancellation) the units still in flight are cancelled and nothing
/// more is committed.
/// </summary>
public static class OrderedUnits
{
    /// <param name="firstUnit">The first unit to run (units before it are already committed).</param>
    /// <param name="unitCount">How many units there are from <paramref name="firstUnit"/> (int.MaxValue: until <paramref name="commit"/> says stop).</param>
    /// <param name="maxInFlight">Units fetched at once.</param>
    /// <param name="lag">See the class summary; int.MaxValue when prompts do not depend on earlier results.</param>
    /// <param name="fetch">Builds unit i's prompts from the current state (synchronously, before its first await) and asks the teacher.</param>
    /// <param name="commit">Records unit i's result; returns false when no more units are needed.</param>
    public static async Task RunAsync<T>(int firstUnit, int unitCount, int maxInFlight, int lag,
                                         Func<int, CancellationToken, Task<T>> fetch, Func<int, T, bool> commit,
                                         CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(lag);
        long end = (long)firstUnit + unitCount;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var inFlight = new Dictionary<int, Task<T>>();
        int next = firstUnit, toCommit = firstUnit;
        try
        {
            while (toCommit < end)
            {
                while (next < end && inFlight.Count < maxInFlight && (long)next - toCommit <= lag)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    inFlight[next] = fetch(next, stop.Token);
                    next++;
                }
                T result = await inFlight[toCommit];
                inFlight.Remove(toCommit);
                bool more = commit(toCommit, result);
                toCommit++;
                if (!more)
                    break;
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var task in inFlight.Values)
            {
                try
                {
                    await task;
                }
                catch
                {
                    // cancelled or failed after the run stopped: nothing of it is committed
                }
            }
        }
    }
}
