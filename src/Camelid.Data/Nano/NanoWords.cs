namespace Camelid.Data.Nano;

/// <summary>Words shared by the instruction skills: items for list tasks and people's names for greetings.</summary>
public static class NanoWords
{
    /// <summary>Lower-case nouns, all distinct, so sorting and reversing have exactly one right answer.</summary>
    public static IReadOnlyList<string> ListItems { get; } =
    [
        "apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "orange", "peach", "pear", "plum", "fig",
        "carrot", "potato", "tomato", "onion", "bean", "pea", "corn", "rice", "bread", "cheese", "milk", "honey",
        "cat", "dog", "horse", "cow", "goat", "sheep", "pig", "duck", "hen", "fox", "wolf", "bear", "deer", "owl",
        "frog", "fish", "whale", "shark", "mouse", "rabbit", "tiger", "lion", "zebra", "camel", "llama", "alpaca",
        "red", "blue", "green", "yellow", "purple", "pink", "brown", "black", "white", "grey",
        "chair", "table", "lamp", "bed", "door", "window", "clock", "book", "pen", "cup", "spoon", "plate", "box",
        "ball", "kite", "drum", "bell", "hat", "coat", "sock", "shoe", "ring", "key", "map", "boat", "train", "car",
        "river", "hill", "lake", "tree", "flower", "stone", "cloud", "star", "moon", "sun", "rain", "snow", "wind",
    ];

    public static IReadOnlyList<string> PeopleNames { get; } =
    [
        "Anna", "Ben", "Clara", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jack", "Kate", "Leo", "Maya", "Noah",
        "Olivia", "Paul", "Rosa", "Sam", "Tara", "Victor", "Wendy", "Yusuf", "Zoe", "Amir", "Lucia", "Omar", "Priya",
        "Tom", "Lily", "Max", "Nina", "Oscar", "Ruby", "Theo", "Ella", "Jonas", "Mia", "Carlos", "Hana", "Ivan",
    ];
}
