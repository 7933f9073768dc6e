using Camelid.Data.Instructions;

namespace Camelid.Data.Tests.Instructions;

public class DeterministicRandomTests
{
    [Fact]
    public void SameInputs_SameStream_OtherInputs_OtherStreams()
    {
        var items = Enumerable.Range(0, 175).ToList();
        Assert.Equal(new DeterministicRandom(42, 1, 17).Sample(items, 3), new DeterministicRandom(42, 1, 17).Sample(items, 3));
        var samples = new HashSet<string>();
        for (int unit = 0; unit < 50; unit++)
            samples.Add(string.Join(',', new DeterministicRandom(42, 1, unit).Sample(items, 3)));
        samples.Add(string.Join(',', new DeterministicRandom(43, 1, 0).Sample(items, 3)));
        samples.Add(string.Join(',', new DeterministicRandom(42, 2, 0).Sample(items, 3)));
        Assert.Equal(52, samples.Count);
    }

    [Fact]
    public void Sample_IsDistinct_AndCoversEveryItem()
    {
        var seen = new int[10];
        for (int i = 0; i < 2000; i++)
        {
            var s = new DeterministicRandom(1, 1, i).SampleIndices(10, 3);
            Assert.Equal(3, s.Distinct().Count());
            foreach (int x in s)
                seen[x]++;
        }
        Assert.All(seen, count => Assert.InRange(count, 450, 750)); // 600 expected each
        Assert.Equal(4, new DeterministicRandom(1, 1, 1).SampleIndices(4, 9).Count);
    }
}
