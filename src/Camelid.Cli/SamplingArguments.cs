using System.CommandLine;
using Camelid.Inference.Sampling;

namespace Camelid.Cli;

/// <summary>The llama.cpp-style sampling flags shared by generate and chat.</summary>
sealed class SamplingArguments
{
    static readonly SamplingOptions Defaults = new();

    readonly Option<float> _temp = new("--temp") { Description = "Temperature; 0 is greedy", DefaultValueFactory = _ => Defaults.Temperature };
    readonly Option<int> _topK = new("--top-k") { Description = "Keep the K most likely tokens (0: all)", DefaultValueFactory = _ => Defaults.TopK };
    readonly Option<float> _topP = new("--top-p") { Description = "Nucleus sampling threshold (1: off)", DefaultValueFactory = _ => Defaults.TopP };
    readonly Option<float> _minP = new("--min-p") { Description = "Drop tokens below min-p times the top probability (0: off)", DefaultValueFactory = _ => Defaults.MinP };
    readonly Option<float> _repeatPenalty = new("--repeat-penalty") { Description = "Penalty for recent tokens (1: off)", DefaultValueFactory = _ => Defaults.RepeatPenalty };
    readonly Option<int> _repeatLastN = new("--repeat-last-n") { Description = "How many recent tokens the penalties consider (0: off, -1: all)", DefaultValueFactory = _ => Defaults.RepeatLastN };
    readonly Option<float> _presencePenalty = new("--presence-penalty") { Description = "Subtracted once from each recent token's logit", DefaultValueFactory = _ => 0f };
    readonly Option<float> _frequencyPenalty = new("--frequency-penalty") { Description = "Subtracted per occurrence of each recent token", DefaultValueFactory = _ => 0f };
    readonly Option<int?> _seed = new("--seed", "-s") { Description = "Random seed (default: random)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _temp, _topK, _topP, _minP, _repeatPenalty, _repeatLastN, _presencePenalty, _frequencyPenalty, _seed })
            command.Options.Add(option);
    }

    public SamplingOptions Read(ParseResult parse)
    {
        var options = new SamplingOptions
        {
            Temperature = parse.GetValue(_temp),
            TopK = parse.GetValue(_topK),
            TopP = parse.GetValue(_topP),
            MinP = parse.GetValue(_minP),
            RepeatPenalty = parse.GetValue(_repeatPenalty),
            RepeatLastN = parse.GetValue(_repeatLastN),
            PresencePenalty = parse.GetValue(_presencePenalty),
            FrequencyPenalty = parse.GetValue(_frequencyPenalty),
            Seed = parse.GetValue(_seed),
        };
        options.Validate();
        return options;
    }
}
