using Camelid.Inference.Generation;

namespace Camelid.Model.Tests;

public class StopStringsTests
{
    [Fact]
    public void Text_that_may_start_a_stop_string_is_held_back_until_decided()
    {
        var stops = new StopStrings(["USER:"]);
        Assert.Equal("Hello ", stops.Push("Hello US"));
        Assert.Equal("USA", stops.Push("A"));   // not a stop after all: released
        Assert.Equal(" and ", stops.Push(" and US"));
        Assert.Equal("", stops.Push("ER"));
        Assert.Equal("", stops.Push(": more")); // the stop string and everything after it are dropped
        Assert.True(stops.Stopped);
        Assert.Equal("", stops.Flush());
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins_and_flush_releases_the_rest()
    {
        var stops = new StopStrings(["</s>", "###"]);
        Assert.Equal("a", stops.Push("a### b</s>"));
        Assert.True(stops.Stopped);
        var open = new StopStrings(["</s>"]);
        Assert.Equal("x", open.Push("x</"));
        Assert.Equal("</", open.Flush());
    }
}
