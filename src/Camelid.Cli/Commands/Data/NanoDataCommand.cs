using System.CommandLine;
using System.Globalization;
using Camelid.Data.Nano;

namespace Camelid.Cli.Commands.Data;

/// <summary>
/// `camelid data nano --out DIR [--seed 1] [--documents N] [--per-skill N] [--heldout-per-skill N]`: Camelid-Nano's
/// data, made from the seed alone: DIR/prose.txt for pretraining, DIR/train.jsonl (OpenAI messages) for fine-tuning and
/// DIR/heldout.jsonl (prompts with their exact expected answers) for evaluation (see <see cref="NanoInstructions"/>).
/// </summary>
static class NanoDataCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to write prose.txt, train.jsonl and heldout.jsonl into", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed and counts give the same files, byte for byte", DefaultValueFactory = _ => 1 };
        var documents = new Option<int>("--documents") { Description = "Prose documents for pretraining", DefaultValueFactory = _ => 20000 };
        var perSkill = new Option<int>("--per-skill") { Description = "Training conversations per skill", DefaultValueFactory = _ => 2000 };
        var heldOutPerSkill = new Option<int>("--heldout-per-skill") { Description = "Held-out prompts per skill (all distinct, never in any training set)", DefaultValueFactory = _ => 100 };
        var command = new Command("nano", "Generate Camelid-Nano's pretraining prose, instruction data and held-out prompts from a seed")
        {
            output, seed, documents, perSkill, heldOutPerSkill,
        };
        command.SetAction((parse, cancellation) => CommonOptions.RunAsync(parse, () =>
        {
            int documentCount = NonNegative(parse.GetValue(documents), "--documents");
            int trainCount = NonNegative(parse.GetValue(perSkill), "--per-skill");
            int heldOutCount = NonNegative(parse.GetValue(heldOutPerSkill), "--heldout-per-skill");
            int seedValue = parse.GetValue(seed);
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);

            var (written, bytes) = NanoDataFiles.WriteProse(Path.Combine(dir, "prose.txt"), NanoCorpus.Prose(seedValue, documentCount));
            int train;
            int heldOut;
            try
            {
                train = NanoDataFiles.WriteTraining(Path.Combine(dir, "train.jsonl"), NanoInstructions.Generate(seedValue, trainCount, NanoSplit.Train));
                heldOut = NanoDataFiles.WriteHeldOut(Path.Combine(dir, "heldout.jsonl"), NanoInstructions.Generate(seedValue, heldOutCount, NanoSplit.HeldOut));
            }
            catch (InvalidOperationException e)
            {
                throw new ArgumentException(e.Message, e);
            }
            using var stdout = CommonOptions.StandardOutput();
            int skills = NanoInstructions.Skills.Count;
            stdout.Write(string.Create(CultureInfo.InvariantCulture,
                $"""
                prose.txt      {written} documents, {bytes / 1e6:0.0} MB
                train.jsonl    {train} conversations ({trainCount} per skill × {skills} skills)
                heldout.jsonl  {heldOut} prompts ({heldOutCount} per skill × {skills} skills)
                skills: {string.Join(", ", NanoInstructions.Skills.Select(NanoSkills.Name))}

                """));
            return Task.FromResult(0);
        }));
        return command;
    }

    static int NonNegative(int value, string option) =>
        value >= 0 ? value : throw new ArgumentException($"{option} must be 0 or more, not {value}");
}
