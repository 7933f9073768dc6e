namespace Camelid.Data.Nano;

/// <summary>A question about using Camelid and the command line that answers it.</summary>
public sealed record NanoHelpTopic(string Id, IReadOnlyList<string> Questions, string Command);

/// <summary>
/// What Camelid-Nano knows about Camelid's own commands. Each answer is a command line written with README.md's
/// command names, options and option values; files and folders are the README's placeholders (MODEL, FILE, DIR …)
/// rather than its example file names, so the model learns the shape of the command and not one TinyLlama path.
/// The tests check every command, option and value against README.md.
/// </summary>
public static class NanoCommandHelp
{
    public static IReadOnlyList<NanoHelpTopic> Topics { get; } =
    [
        new("chat", ["How do I chat with a model?", "How do I start a chat?", "How can I talk to a model in the terminal?"],
            "camelid chat --model MODEL"),
        new("chat-system", ["How do I chat with a system prompt?", "How do I give the chat a system prompt?"],
            "camelid chat --model MODEL --system TEXT"),
        new("chat-template", ["How do I chat with the chatml template?", "How do I choose the chatml chat template?"],
            "camelid chat --model MODEL --template chatml"),
        new("chat-lora", ["How do I chat with a LoRA adapter?", "How do I use a LoRA adapter in a chat?"],
            "camelid chat --model MODEL --lora DIR"),
        new("generate", ["How do I generate text from a prompt?", "How do I continue a prompt with a model?"],
            "camelid generate --model MODEL --prompt TEXT"),
        new("generate-greedy", ["How do I generate greedy text?", "How do I generate text with temperature 0?"],
            "camelid generate --model MODEL --prompt TEXT --temp 0"),
        new("serve", ["How do I serve a model?", "How do I start an OpenAI-compatible server?", "How do I run the API server?"],
            "camelid serve --model MODEL --port 8080"),
        new("serve-key", ["How do I serve a model with an API key?", "How do I protect the server with a key?"],
            "camelid serve --model MODEL --api-key KEY"),
        new("info", ["How do I see the architecture of a model?", "How do I show information about a model?"],
            "camelid info MODEL"),
        new("tokenize", ["How do I see the tokens of a text?", "How do I tokenize a text?"],
            "camelid tokenize --model MODEL TEXT"),
        new("quantize-4", ["How do I quantize a model to 4 bits?", "How do I make a 4-bit model?"],
            "camelid quantize IN.gguf OUT.gguf --type q4_k_m"),
        new("convert-hf", ["How do I convert a model to a Hugging Face folder?", "How do I write a model as a Hugging Face folder?"],
            "camelid convert MODEL --to hf --out DIR"),
        new("convert-gguf", ["How do I convert a model to GGUF?", "How do I turn a model folder into a GGUF file?"],
            "camelid convert MODEL --to gguf --out OUT.gguf"),
        new("synth", ["How do I make a random model for tests?", "How do I create a random-weight GGUF?"],
            "camelid synth --shape stories15m --type q4_0 --out FILE.gguf"),
        new("bench", ["How do I benchmark a model?", "How do I measure the speed of a model?"],
            "camelid bench --model MODEL"),
        new("bench-machine", ["How do I measure my machine's memory bandwidth?", "How do I benchmark my machine?"],
            "camelid bench --machine"),
        new("finetune", ["How do I fine-tune a model?", "How do I fine-tune every weight of a model?"],
            "camelid finetune --model MODEL --data FILE --out DIR"),
        new("finetune-lora", ["How do I fine-tune with LoRA?", "How do I train a LoRA adapter?"],
            "camelid finetune --model MODEL --data FILE --out DIR --method lora"),
        new("finetune-qlora", ["How do I fine-tune with QLoRA?", "How do I train a QLoRA adapter?"],
            "camelid finetune --model MODEL --data FILE --out DIR --method qlora"),
        new("finetune-resume", ["How do I resume a fine-tuning run?", "How do I continue an interrupted fine-tuning run?"],
            "camelid finetune --model MODEL --data FILE --out DIR --resume"),
        new("pretrain", ["How do I pretrain a model from scratch?", "How do I train a new model from random weights?"],
            "camelid pretrain --config nano --tokenizer TOK --data FILE --out DIR"),
        new("merge-lora", ["How do I merge a LoRA adapter into a model?", "How do I bake a LoRA adapter into the weights?"],
            "camelid merge-lora --model MODEL --lora DIR --out OUT.gguf"),
        new("delta-make", ["How do I make a weight delta?", "How do I publish a model as a delta from its base?"],
            "camelid delta make --base B --target T --out D"),
        new("delta-apply", ["How do I apply a weight delta?", "How do I rebuild a model from a delta?"],
            "camelid delta apply --base B --delta D --out T"),
        new("data-convert", ["How do I convert data to OpenAI messages?", "How do I turn ShareGPT data into messages JSONL?"],
            "camelid data convert IN OUT --to messages"),
        new("data-clean", ["How do I clean ShareGPT data?", "How do I clean a ShareGPT dump?"],
            "camelid data clean-sharegpt IN OUT"),
        new("data-stats", ["How do I see statistics of a data file?", "How do I count the turns in a data file?"],
            "camelid data stats FILE"),
        new("eval-show", ["How do I show evaluation results?", "How do I see the judges' scores?"],
            "camelid eval show --judgments FILE"),
        new("install", ["How do I install Camelid as a tool?", "How do I install the camelid command?"],
            "dotnet tool install --global --add-source nupkg Camelid.Cli"),
    ];

    /// <summary>Follow-ups that only make sense after a given topic: (topic, follow-up wordings, topic it asks for).</summary>
    public static IReadOnlyList<(string After, IReadOnlyList<string> Questions, string Then)> FollowUps { get; } =
    [
        ("finetune", ["And with LoRA?", "What about with LoRA?"], "finetune-lora"),
        ("finetune", ["And with QLoRA?", "What about with QLoRA?"], "finetune-qlora"),
        ("finetune", ["How do I resume it?", "And if it was interrupted?"], "finetune-resume"),
        ("finetune-lora", ["How do I chat with the adapter?", "And how do I chat with it?"], "chat-lora"),
        ("finetune-lora", ["How do I merge it into the model?", "And how do I merge it?"], "merge-lora"),
        ("serve", ["And with an API key?", "How do I add an API key?"], "serve-key"),
        ("chat", ["And with a system prompt?", "How do I add a system prompt?"], "chat-system"),
        ("generate", ["And greedy?", "What about with temperature 0?"], "generate-greedy"),
        ("convert-gguf", ["And then to 4 bits?", "How do I quantize it to 4 bits?"], "quantize-4"),
    ];

    public static NanoHelpTopic Topic(string id) => Topics.First(t => t.Id == id);
}
