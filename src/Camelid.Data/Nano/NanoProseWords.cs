namespace Camelid.Data.Nano;

/// <summary>
/// The vocabulary of Camelid-Nano's pretraining prose: simple words a young reader knows, a few hundred in all,
/// so a model with a 2–4K-piece vocabulary sees each word often enough to learn it.
/// </summary>
internal static class NanoProseWords
{
    public static readonly string[] GirlNames =
    [
        "Lily", "Mia", "Anna", "Sara", "Emma", "Lucy", "Rosa", "Zoe", "Ella", "Maya", "Nina", "Ruby", "Amy", "Grace",
        "Hana", "Ivy", "Julia", "Kate", "Lola", "Molly", "Nora", "Olive", "Pia", "Tess", "Una", "Wendy", "Alice", "Daisy",
    ];

    public static readonly string[] BoyNames =
    [
        "Tom", "Ben", "Max", "Leo", "Sam", "Jack", "Finn", "Hugo", "Noah", "Omar", "Theo", "Luca", "Ivan", "Jonas", "Kai",
        "Liam", "Milo", "Ned", "Oscar", "Pablo", "Rex", "Timmy", "Victor", "Will", "Adam", "Carlos", "Dan", "Eli",
    ];

    /// <summary>Kinds of character: children and animals (animal characters get any pronoun).</summary>
    public static readonly string[] Animals =
    [
        "bunny", "fox", "bear", "mouse", "owl", "duck", "frog", "cat", "dog", "puppy", "kitten", "squirrel", "hedgehog",
        "turtle", "llama", "alpaca", "goat", "lamb", "pony", "bird", "robin", "deer", "pig", "hen", "badger", "otter",
        "beaver", "camel", "lion", "tiger", "elephant", "monkey", "penguin", "snail", "bee",
    ];

    public static readonly string[] CharacterAdjectives =
    [
        "little", "kind", "brave", "shy", "curious", "happy", "clever", "gentle", "funny", "busy", "sleepy", "quiet",
        "friendly", "cheerful", "careful", "small", "young", "silly", "smart", "helpful",
    ];

    /// <summary>(the place, where in it: "in the park").</summary>
    public static readonly (string Name, string Where)[] Places =
    [
        ("park", "in the park"), ("forest", "in the forest"), ("garden", "in the garden"), ("beach", "on the beach"),
        ("farm", "on the farm"), ("village", "in the village"), ("meadow", "in the meadow"), ("hill", "on the hill"),
        ("river", "by the river"), ("lake", "by the lake"), ("school", "at school"), ("kitchen", "in the kitchen"),
        ("library", "in the library"), ("market", "at the market"), ("zoo", "at the zoo"), ("mountain", "on the mountain"),
        ("field", "in the field"), ("barn", "in the barn"), ("pond", "by the pond"), ("playground", "at the playground"),
        ("town", "in the town"), ("woods", "in the woods"), ("valley", "in the valley"), ("island", "on the island"),
    ];

    public static readonly string[] Things =
    [
        "ball", "kite", "hat", "key", "box", "book", "cup", "toy car", "drum", "feather", "stone", "shell", "map", "lamp",
        "basket", "flower", "letter", "teddy bear", "bell", "balloon", "boat", "coin", "ribbon", "scarf", "button",
        "spoon", "blanket", "umbrella", "apple", "egg", "leaf", "stick", "ring", "jar", "pencil", "sock", "glove", "bucket",
    ];

    public static readonly string[] ThingAdjectives =
    [
        "shiny", "small", "big", "old", "new", "soft", "round", "tiny", "pretty", "strange", "golden", "heavy", "bright",
        "red", "blue", "green", "yellow", "purple", "orange", "pink", "white", "brown", "striped", "spotted",
    ];

    /// <summary>(base form, past tense) of things characters like to do.</summary>
    public static readonly (string Base, string Past)[] Activities =
    [
        ("play with a ball", "played with a ball"), ("read books", "read books"), ("draw pictures", "drew pictures"),
        ("sing songs", "sang songs"), ("dance", "danced"), ("run in the grass", "ran in the grass"),
        ("climb trees", "climbed trees"), ("build sand castles", "built sand castles"), ("bake cookies", "baked cookies"),
        ("pick flowers", "picked flowers"), ("swim in the lake", "swam in the lake"), ("jump in puddles", "jumped in puddles"),
        ("look at the stars", "looked at the stars"), ("ride a bike", "rode a bike"), ("fly a kite", "flew a kite"),
        ("help in the garden", "helped in the garden"), ("collect shells", "collected shells"), ("paint", "painted"),
        ("play hide and seek", "played hide and seek"), ("watch the clouds", "watched the clouds"),
        ("count the birds", "counted the birds"), ("plant seeds", "planted seeds"), ("tell stories", "told stories"),
        ("make music", "made music"), ("build a tower of blocks", "built a tower of blocks"), ("feed the ducks", "fed the ducks"),
    ];

    public static readonly string[] Feelings =
    [
        "happy", "sad", "scared", "excited", "proud", "surprised", "tired", "angry", "worried", "calm", "glad", "lonely",
        "curious", "thankful", "nervous", "cheerful",
    ];

    public static readonly string[] GoodFeelings = ["happy", "proud", "glad", "thankful", "cheerful", "excited", "calm"];

    public static readonly string[] BadFeelings = ["sad", "scared", "worried", "lonely", "nervous", "upset"];

    public static readonly string[] Foods =
    [
        "apples", "cookies", "bread", "soup", "carrots", "berries", "cake", "pie", "honey", "cheese", "pancakes", "rice",
        "grapes", "eggs", "muffins", "pears", "nuts", "corn", "porridge", "plums",
    ];

    public static readonly string[] Family =
    [
        "mom", "dad", "grandma", "grandpa", "big sister", "little brother", "big brother", "little sister", "aunt", "uncle",
    ];

    public static readonly string[] Times =
    [
        "One day", "One morning", "One sunny afternoon", "One evening", "One rainy day", "On a cold winter day",
        "One spring morning", "Early one morning", "One summer day", "Later that week", "The next day", "One windy day",
    ];

    /// <summary>Places a found thing lies.</summary>
    public static readonly string[] Spots =
    [
        "under a big tree", "near the pond", "behind a rock", "in the tall grass", "next to the fence", "under a bush",
        "on the path", "in the sand", "by the old gate", "under the bench", "on a high shelf", "in a little hole",
    ];

    /// <summary>(weather as an adjective, the sentence that shows it, something it stops).</summary>
    public static readonly (string Adjective, string Sentence)[] Weather =
    [
        ("sunny", "The sun was shining and the sky was blue."), ("rainy", "Rain was falling and the ground was wet."),
        ("windy", "The wind was blowing hard and the trees were shaking."), ("snowy", "Snow was falling and everything was white."),
        ("cloudy", "Grey clouds covered the sky."), ("hot", "It was very hot and the air was still."),
        ("cold", "It was cold and the grass was covered with frost."), ("foggy", "Fog was everywhere and it was hard to see."),
    ];

    public static readonly string[] Seasons = ["spring", "summer", "autumn", "winter"];

    public static readonly string[] PlaceFeatures =
    [
        "tall trees", "green grass", "a small pond", "red and yellow flowers", "an old wooden bridge", "a little house",
        "a big rock", "many birds", "a long path", "a quiet stream", "a wooden bench", "soft moss", "tall hills",
        "apple trees", "a white fence", "a sandy shore", "a busy road", "a stone wall",
    ];

    public static readonly string[] Colours = ["red", "blue", "green", "yellow", "purple", "orange", "pink", "white", "brown", "grey", "black"];
}
