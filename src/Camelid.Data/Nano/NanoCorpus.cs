using System.Text;
using Camelid.Data.Instructions;
using static Camelid.Data.Nano.NanoProseWords;

namespace Camelid.Data.Nano;

/// <summary>
/// Simple English prose for pretraining Camelid-Nano, in the spirit of TinyStories but written by a grammar instead of
/// a teacher model: short stories (finding something, friends and a quarrel, a day out, the weather changing plans),
/// descriptions of places and of a character's day. Each document is one or two paragraphs (joined by a single
/// newline, since a blank line ends a document in <c>camelid pretrain</c>'s input). Document i is a pure function of
/// (seed, i).
/// </summary>
public static class NanoCorpus
{
    const int Stream = 0x50524F53; // "PROS"

    public static IEnumerable<string> Prose(int seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        for (int i = 0; i < count; i++)
            yield return Document(seed, i);
    }

    /// <summary>Document <paramref name="index"/> of the corpus for <paramref name="seed"/>.</summary>
    public static string Document(int seed, long index)
    {
        var story = new StoryWriter(new DeterministicRandom(seed, Stream, index));
        return story.Rng.Next(6) switch
        {
            0 or 1 => story.FoundSomething(),
            2 => story.Friends(),
            3 => story.WeatherChangesPlans(),
            4 => story.DayOut(),
            _ => story.Rng.Next(2) == 0 ? story.PlaceDescription() : story.CharacterDay(),
        };
    }
}

/// <summary>A character of a story, with the pronouns the sentences need.</summary>
internal sealed record StoryCharacter(string Name, string Kind, bool IsGirl)
{
    public string He => IsGirl ? "she" : "he";
    public string His => IsGirl ? "her" : "his";
    public string Him => IsGirl ? "her" : "him";
}

/// <summary>Writes one document; each method is one kind of document, built from interchangeable sentence choices.</summary>
internal sealed class StoryWriter(DeterministicRandom rng)
{
    public DeterministicRandom Rng { get; } = rng;

    readonly List<string> _paragraphs = [];
    readonly StringBuilder _paragraph = new();

    T Pick<T>(IReadOnlyList<T> items) => items[Rng.Next(items.Count)];

    bool Chance(int percent) => Rng.Next(100) < percent;

    static string A(string noun) => ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;

    static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    void Say(string sentence)
    {
        if (_paragraph.Length > 0)
            _paragraph.Append(' ');
        _paragraph.Append(Capital(sentence));
    }

    void EndParagraph()
    {
        if (_paragraph.Length > 0)
            _paragraphs.Add(_paragraph.ToString());
        _paragraph.Clear();
    }

    string Finish()
    {
        EndParagraph();
        return string.Join("\n", _paragraphs);
    }

    StoryCharacter NewCharacter(string? notNamed = null)
    {
        bool girl = Chance(50);
        string name;
        do name = Pick(girl ? GirlNames : BoyNames);
        while (name == notNamed);
        string kind = Chance(50) ? (girl ? Pick(["girl", "girl", "little girl"]) : Pick(["boy", "boy", "little boy"])) : Pick(Animals);
        return new StoryCharacter(name, kind, girl);
    }

    string Thing() => Chance(60) ? $"{Pick(ThingAdjectives)} {Pick(Things)}" : Pick(Things);

    void Introduce(StoryCharacter c)
    {
        string adjective = Pick(CharacterAdjectives);
        var (_, where) = Pick(Places);
        Say(Pick([
            $"once upon a time, there was {A($"{adjective} {c.Kind}")} named {c.Name}.",
            $"there once was {A($"{adjective} {c.Kind}")} called {c.Name}.",
            $"{c.Name} was {A($"{adjective} {c.Kind}")} who lived {where}.",
            $"in a small village there lived {A($"{adjective} {c.Kind}")} named {c.Name}.",
            $"this is a story about {A($"{adjective} {c.Kind}")} named {c.Name}.",
        ]));
        if (Chance(60))
            Say(Pick([
                $"{c.He} lived {where} with {c.His} {Pick(Family)}.",
                $"{c.His} home was {where}, near {A(Pick(PlaceFeatures).Split(' ')[^1])}.",
                $"{c.He} had {A(Pick(CharacterAdjectives))} friend who lived next door.",
            ]));
        var activity = Pick(Activities);
        Say(Pick([
            $"{c.Name} loved to {activity.Base}.",
            $"every day, {c.He} liked to {activity.Base}.",
            $"{c.His} favourite thing was to {activity.Base}.",
            $"more than anything, {c.Name} liked to {activity.Base}.",
        ]));
    }

    public string FoundSomething()
    {
        var hero = NewCharacter();
        var helper = NewCharacter(hero.Name);
        string thing = Thing();
        var (place, where) = Pick(Places);
        Introduce(hero);
        Say($"{Pick(Times)}, {hero.Name} went to the {place}.");
        Say(Pick([
            $"there {hero.He} saw {A(thing)} {Pick(Spots)}.",
            $"{hero.He} found {A(thing)} {Pick(Spots)}.",
            $"{Pick(Spots)}, {hero.He} saw something {Pick(["shiny", "strange", "small", "bright"])}. It was {A(thing)}!",
        ]));
        Say(Pick([
            $"\"What is this?\" {hero.He} asked.",
            $"\"Wow, {A(thing)}!\" said {hero.Name}.",
            $"{hero.Name} was very {Pick(["surprised", "curious", "excited"])}.",
            $"\"Who does this belong to?\" {hero.Name} wondered.",
        ]));
        EndParagraph();
        int problem = Rng.Next(4);
        Say(problem switch
        {
            0 => $"but the {thing} was stuck high up in a tree.",
            1 => $"but the {thing} was too heavy to carry alone.",
            2 => $"then a strong wind came and blew the {thing} away.",
            _ => $"but {hero.Name} saw that the {thing} was broken.",
        });
        Say($"{hero.Name} felt {Pick(BadFeelings)}.");
        Say(Pick([
            $"just then, {helper.Name} the {helper.Kind} came by.",
            $"soon {hero.His} friend {helper.Name} came to see what was wrong.",
            $"{A(Pick(CharacterAdjectives))} {helper.Kind} named {helper.Name} heard {hero.Him} and came over.",
        ]));
        Say(Pick([
            $"\"Don't worry, I can help you,\" said {helper.Name}.",
            $"\"Let me help,\" said {helper.Name} with a smile.",
            $"\"We can do it together,\" {helper.Name} said.",
        ]));
        Say(problem switch
        {
            0 => $"{helper.Name} held the ladder, and {hero.Name} climbed up and got the {thing}.",
            1 => $"together they carried the {thing} all the way home.",
            2 => $"they ran after the {thing} until it stopped by the {Pick(Places).Name}.",
            _ => $"they fixed the {thing} with some {Pick(["glue", "string", "tape", "thread"])}.",
        });
        Say(Pick([
            $"{hero.Name} felt {Pick(GoodFeelings)}. \"Thank you, {helper.Name}!\" {hero.He} said.",
            $"from that day on, {hero.Name} and {helper.Name} were best friends.",
            $"in the end, {hero.Name} learned that it is good to ask for help.",
            $"{hero.Name} smiled. It was the best day ever.",
            $"that night, {hero.Name} put the {thing} next to {hero.His} bed and fell asleep {Pick(GoodFeelings)}.",
        ]));
        return Finish();
    }

    public string Friends()
    {
        var first = NewCharacter();
        var second = NewCharacter(first.Name);
        string thing = Thing();
        var (place, _) = Pick(Places);
        Say(Pick([
            $"{first.Name} and {second.Name} were best friends.",
            $"{first.Name} the {first.Kind} and {second.Name} the {second.Kind} were good friends.",
            $"{first.Name} had a friend named {second.Name}.",
        ]));
        var activity = Pick(Activities);
        Say(Pick([
            $"they liked to {activity.Base} together.",
            $"every day they met at the {place} to {activity.Base}.",
            $"they always played at the {place}.",
        ]));
        Say($"{Pick(Times)}, {first.Name} brought {A(thing)} to the {place}.");
        Say(Pick([
            $"\"Can I play with your {thing}?\" asked {second.Name}.",
            $"\"I want the {thing} too!\" said {second.Name}.",
            $"{second.Name} wanted to hold the {thing}.",
        ]));
        EndParagraph();
        if (Chance(50))
        {
            Say($"\"No, it is mine,\" said {first.Name}.");
            Say($"{second.Name} felt {Pick(BadFeelings)} and walked away.");
            Say($"soon {first.Name} was {Pick(["lonely", "sad", "bored"])}, because it was no fun to play alone.");
            Say(Pick([
                $"{first.He} ran after {second.Name} and said, \"I am sorry. Let's play with it together.\"",
                $"so {first.He} went to {second.Name} and said, \"You can have a turn. I am sorry.\"",
            ]));
            Say($"{second.Name} smiled. \"Thank you,\" {second.He} said.");
        }
        else
        {
            Say(Pick([
                $"\"Yes, of course,\" said {first.Name}. \"Let's share it.\"",
                $"\"Sure! We can take turns,\" said {first.Name}.",
            ]));
            Say($"{second.Name} was very {Pick(GoodFeelings)}.");
        }
        Say(Pick([
            $"they played with the {thing} until the sun went down.",
            $"they had lots of fun, and they learned that sharing makes play better.",
            $"after that, they always shared their toys.",
            $"then they {Pick(Activities).Past} and laughed all afternoon.",
        ]));
        return Finish();
    }

    public string WeatherChangesPlans()
    {
        var hero = NewCharacter();
        var plan = Pick(Activities);
        var (place, _) = Pick(Places);
        Say(Pick([
            $"{hero.Name} wanted to go to the {place} to {plan.Base}.",
            $"{hero.Name} the {hero.Kind} had a plan for the day: {hero.He} wanted to {plan.Base}.",
            $"today {hero.Name} was going to {plan.Base} at the {place}.",
        ]));
        var (weather, sentence) = Pick(Weather.Where(w => w.Adjective != "sunny").ToList());
        Say($"but when {hero.He} looked out of the window, it was {weather}.");
        Say(sentence);
        Say(Pick([
            $"because it was so {weather}, {hero.Name} could not go outside.",
            $"{hero.Name} had to stay inside, because it was too {weather}.",
            $"\"Oh no,\" said {hero.Name}. \"Now I cannot {plan.Base}.\"",
        ]));
        EndParagraph();
        string relative = Pick(Family);
        var inside = Pick(Activities.Where(a => a.Base is "read books" or "draw pictures" or "sing songs" or "bake cookies"
            or "paint" or "tell stories" or "make music" or "build a tower of blocks" or "dance" or "play hide and seek").ToList());
        Say($"{hero.His} {relative} said, \"Let's {inside.Base} instead.\"");
        Say($"so they {inside.Past} together, and {hero.Name} felt {Pick(GoodFeelings)} again.");
        if (Chance(60))
        {
            Say(Pick([
                "after a while, the weather changed and the sun came out.",
                "later, the sky cleared and the sun came out.",
                "in the afternoon, the clouds went away.",
            ]));
            Say($"{hero.Name} ran to the {place} and {plan.Past} after all.");
        }
        else
            Say(Pick([
                $"{hero.Name} learned that {A(weather)} day can be fun too.",
                $"the next day was sunny, and {hero.Name} finally went to the {place}.",
                $"when {hero.He} went to bed, {hero.He} said, \"That was a good day.\"",
            ]));
        return Finish();
    }

    public string DayOut()
    {
        var hero = NewCharacter();
        string relative = Pick(Family);
        var (place, where) = Pick(Places);
        Say(Pick([
            $"{Pick(Times)}, {hero.Name} and {hero.His} {relative} went to the {place}.",
            $"{hero.Name} the {hero.Kind} went to the {place} with {hero.His} {relative}.",
        ]));
        Say(Pick(Weather.Where(w => w.Adjective is "sunny" or "cloudy" or "windy" or "cold").ToList()).Sentence);
        int things = 2 + Rng.Next(3);
        var done = new HashSet<string>();
        for (int i = 0; i < things; i++)
        {
            var activity = Pick(Activities);
            if (!done.Add(activity.Base))
                continue;
            Say(i switch
            {
                0 => Pick([$"first, they {activity.Past}.", $"they started the day when they {activity.Past}."]),
                _ => Pick([$"then they {activity.Past}.", $"after that, {hero.Name} {activity.Past}.", $"next, they {activity.Past} {where}."]),
            });
        }
        Say(Pick([
            $"for lunch they ate {Pick(Foods)} and {Pick(Foods)}.",
            $"they had a picnic with {Pick(Foods)}.",
            $"at noon, {hero.Name} was hungry, so they ate some {Pick(Foods)}.",
        ]));
        EndParagraph();
        Say(Pick([
            $"on the way home, {hero.Name} saw {A(Pick(Animals))} and waved to it.",
            $"when the sun went down, they walked home.",
            $"in the evening, they went home {Pick(["slowly", "happily", "quietly"])}.",
        ]));
        Say(Pick([
            $"{hero.Name} was {Pick(["tired", "sleepy"])} but {Pick(GoodFeelings)}.",
            $"\"Can we come back tomorrow?\" asked {hero.Name}. {Capital(hero.His)} {relative} laughed and said yes.",
            $"that night, {hero.Name} dreamed about the {place}.",
        ]));
        return Finish();
    }

    public string PlaceDescription()
    {
        var (place, _) = Pick(Places);
        var features = Rng.Sample(PlaceFeatures, 3);
        string season = Pick(Seasons);
        Say(Pick([
            $"the {place} is {A(Pick(["quiet", "busy", "beautiful", "big", "small", "happy"]))} place.",
            $"there is {A(Pick(["lovely", "little", "big", "old"]))} {place} near the town.",
            $"near our house there is {A(place)}.",
        ]));
        Say($"it has {features[0]}, {features[1]} and {features[2]}.");
        Say(Pick([
            $"in {season}, the {place} is {Pick(["green", "bright", "quiet", "full of life", "cold", "warm"])}.",
            $"many {Pick(Animals)}s live there.",
            $"you can often see {Pick(Colours)} birds in the trees.",
        ]));
        var activity = Pick(Activities);
        Say(Pick([
            $"children like to {activity.Base} there.",
            $"people come to the {place} to {activity.Base}.",
            $"it is a good place to {activity.Base}.",
        ]));
        Say(Pick([
            "at night, it is dark and quiet, and you can see the moon and the stars.",
            "in the evening, the sky turns orange and pink.",
            $"when it rains, the {place} smells fresh and clean.",
            "everyone who visits wants to come back.",
        ]));
        return Finish();
    }

    public string CharacterDay()
    {
        var hero = NewCharacter();
        Introduce(hero);
        EndParagraph();
        Say(Pick([
            $"every morning, {hero.Name} wakes up early.",
            $"{hero.Name} gets up when the sun comes up.",
        ]));
        Say($"for breakfast, {hero.He} eats {Pick(Foods)} and drinks {Pick(["milk", "water", "juice", "tea"])}.");
        var (place, _) = Pick(Places);
        Say(Pick([
            $"then {hero.He} goes to the {place}.",
            $"after breakfast, {hero.He} walks to the {place} with {hero.His} {Pick(Family)}.",
        ]));
        Say(Pick([
            $"in the afternoon, {hero.He} likes to {Pick(Activities).Base}.",
            $"after lunch, {hero.Name} and {hero.His} friends {Pick(Activities).Base}.",
        ]));
        Say(Pick([
            $"at night, {hero.His} {Pick(Family)} reads {hero.Him} a story, and {hero.He} falls asleep.",
            $"when it gets dark, {hero.Name} feels {Pick(["sleepy", "tired", "calm"])} and goes to bed.",
        ]));
        return Finish();
    }
}
