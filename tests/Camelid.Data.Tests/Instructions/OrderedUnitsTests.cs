using System.Collections.Concurrent;
using Camelid.Data.Instructions;

namespace Camelid.Data.Tests.Instructions;

public class OrderedUnitsTests
{
    [Theory]
    [InlineData(1, int.MaxValue)]
    [InlineData(4, int.MaxValue)]
    [InlineData(4, 2)]
    [InlineData(8, 0)]
    public async Task CommitsInOrder_RespectingTheLag(int maxInFlight, int lag)
    {
        var random = new Random(maxInFlight * 31 + lag);
        var delays = Enumerable.Range(0, 40).Select(_ => random.Next(0, 8)).ToArray();
        var committed = new List<int>();
        var started = new ConcurrentQueue<(int Unit, int CommittedThen)>();
        await OrderedUnits.RunAsync(5, 30, maxInFlight, lag,
            async (unit, token) =>
            {
                started.Enqueue((unit, committed.Count));
                await Task.Delay(delays[unit], token);
                return unit * 10;
            },
            (unit, result) =>
            {
                Assert.Equal(unit * 10, result);
                committed.Add(unit);
                return true;
            }, CancellationToken.None);
        Assert.Equal(Enumerable.Range(5, 30), committed);
        foreach (var (unit, committedThen) in started)
        {
            long firstUncommitted = 5 + committedThen;
            Assert.True(unit - firstUncommitted <= lag, $"unit {unit} started while {firstUncommitted} was not committed (lag {lag})");
            Assert.True(unit - firstUncommitted < maxInFlight);
        }
    }

    [Fact]
    public async Task CommitCanStop_AndAFailureStopsCommits()
    {
        var committed = new List<int>();
        await OrderedUnits.RunAsync(0, int.MaxValue, 3, int.MaxValue, (u, _) => Task.FromResult(u),
            (u, _) => { committed.Add(u); return u < 6; }, CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 7), committed);

        committed.Clear();
        await Assert.ThrowsAsync<InvalidOperationException>(() => OrderedUnits.RunAsync(0, 10, 3, int.MaxValue,
            async (u, token) =>
            {
                await Task.Delay(u == 4 ? 1 : 5, token);
                return u == 4 ? throw new InvalidOperationException("teacher down") : u;
            },
            (u, _) => { committed.Add(u); return true; }, CancellationToken.None));
        Assert.Equal(Enumerable.Range(0, 4), committed);
    }
}
