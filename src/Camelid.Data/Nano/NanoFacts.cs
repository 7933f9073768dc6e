namespace Camelid.Data.Nano;

/// <summary>One fact: the ways it is asked and the one answer expected.</summary>
public sealed record NanoFact(string Id, IReadOnlyList<string> Questions, string Answer);

/// <summary>
/// The facts Camelid-Nano is taught: general knowledge that is not in dispute, and facts about camelids. Each
/// answer is the whole expected reply. Capitals are kept apart so that a follow-up "And of Italy?" can be asked.
/// </summary>
public static class NanoFacts
{
    /// <summary>Country → capital, each beyond doubt (no country with a disputed or split capital).</summary>
    public static IReadOnlyList<(string Country, string Capital)> Capitals { get; } =
    [
        ("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"), ("Japan", "Tokyo"),
        ("Egypt", "Cairo"), ("Peru", "Lima"), ("Chile", "Santiago"), ("Argentina", "Buenos Aires"), ("Canada", "Ottawa"),
        ("Kenya", "Nairobi"), ("Norway", "Oslo"), ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Ireland", "Dublin"),
        ("Australia", "Canberra"), ("China", "Beijing"), ("Russia", "Moscow"), ("Mexico", "Mexico City"), ("Poland", "Warsaw"),
    ];

    static readonly NanoFact[] General =
    [
        new("sky", ["What colour is the sky on a clear day?", "What colour is a clear sky?"], "Blue"),
        new("grass", ["What colour is grass?", "What colour is fresh grass?"], "Green"),
        new("snow", ["What colour is snow?", "What colour is fresh snow?"], "White"),
        new("banana", ["What colour is a ripe banana?", "What colour are ripe bananas?"], "Yellow"),
        new("spider-legs", ["How many legs does a spider have?", "How many legs has a spider got?"], "8"),
        new("insect-legs", ["How many legs does an insect have?", "How many legs do insects have?"], "6"),
        new("week", ["How many days are in a week?", "How many days does a week have?"], "7"),
        new("year-months", ["How many months are in a year?", "How many months does a year have?"], "12"),
        new("day-hours", ["How many hours are in a day?", "How many hours does a day have?"], "24"),
        new("alphabet", ["How many letters are in the English alphabet?", "How many letters does the English alphabet have?"], "26"),
        new("triangle", ["How many sides does a triangle have?", "How many sides has a triangle got?"], "3"),
        new("square", ["How many sides does a square have?", "How many sides has a square got?"], "4"),
        new("hexagon", ["How many sides does a hexagon have?", "How many sides has a hexagon got?"], "6"),
        new("largest-planet", ["What is the largest planet in the Solar System?", "Which planet is the biggest in the Solar System?"], "Jupiter"),
        new("our-planet", ["Which planet do we live on?", "What is the name of our planet?"], "Earth"),
        new("red-planet", ["Which planet is called the Red Planet?", "What is the Red Planet?"], "Mars"),
        new("sun-rises", ["In which direction does the sun rise?", "Where does the sun rise?"], "In the east"),
        new("water-freezes", ["At what temperature in degrees Celsius does water freeze?", "What is the freezing point of water in degrees Celsius?"], "0 degrees Celsius"),
        new("water-boils", ["At what temperature in degrees Celsius does water boil at sea level?", "What is the boiling point of water at sea level in degrees Celsius?"], "100 degrees Celsius"),
        new("largest-ocean", ["What is the largest ocean on Earth?", "Which ocean is the biggest?"], "The Pacific Ocean"),
        new("bees", ["What do bees make?", "What sweet food do bees make?"], "Honey"),
        new("water-formula", ["What is the chemical formula of water?", "What is the formula for water?"], "H2O"),
        new("plants-gas", ["What gas do plants take in to make food?", "Which gas do plants use for photosynthesis?"], "Carbon dioxide"),
        new("hot-opposite", ["What is the opposite of hot?", "What is the opposite of the word hot?"], "Cold"),
        new("big-opposite", ["What is the opposite of big?", "What is the opposite of the word big?"], "Small"),
    ];

    static readonly NanoFact[] Camelids =
    [
        new("llama-home", ["Which continent do llamas come from?", "Where do llamas come from?"], "South America"),
        new("alpaca-home", ["Which continent do alpacas come from?", "Where do alpacas come from?"], "South America"),
        new("llama-family", ["Which animal family do llamas belong to?", "What family of animals is the llama part of?"], "The camelid family"),
        new("llama-or-alpaca", ["Which is bigger, a llama or an alpaca?", "Is a llama or an alpaca larger?"], "A llama"),
        new("dromedary-humps", ["How many humps does a dromedary camel have?", "How many humps has a dromedary got?"], "One"),
        new("bactrian-humps", ["How many humps does a Bactrian camel have?", "How many humps has a Bactrian camel got?"], "Two"),
        new("alpaca-ancestor", ["Which wild animal is the ancestor of the alpaca?", "What is the wild ancestor of the alpaca?"], "The vicuña"),
        new("llama-ancestor", ["Which wild animal is the ancestor of the llama?", "What is the wild ancestor of the llama?"], "The guanaco"),
        new("smallest-camelid", ["Which is the smallest camelid?", "What is the smallest member of the camelid family?"], "The vicuña"),
        new("baby-llama", ["What is a baby llama called?", "What do you call a baby llama?"], "A cria"),
        new("baby-alpaca", ["What is a baby alpaca called?", "What do you call a baby alpaca?"], "A cria"),
        new("vicuna-wild", ["Is the vicuña wild or domesticated?", "Are vicuñas wild or domestic animals?"], "Wild"),
        new("guanaco-wild", ["Is the guanaco wild or domesticated?", "Are guanacos wild or domestic animals?"], "Wild"),
        new("llama-work", ["What are llamas often used for?", "What work do llamas do for people?"], "Carrying loads"),
        new("alpaca-fibre", ["Why do people keep alpacas?", "What are alpacas mostly kept for?"], "For their fibre"),
        new("llama-legs", ["How many legs does a llama have?", "How many legs has a llama got?"], "4"),
    ];

    /// <summary>Every fact, capitals included (as "capital-France" etc. with two wordings each).</summary>
    public static IReadOnlyList<NanoFact> All { get; } =
    [
        .. General,
        .. Camelids,
        .. Capitals.Select(c => new NanoFact($"capital-{c.Country}",
            [$"What is the capital of {c.Country}?", $"Which city is the capital of {c.Country}?"], c.Capital)),
    ];
}
