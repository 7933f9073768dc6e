using System.CommandLine;
using Camelid.Model;
using Camelid.Tokenization.ChatTemplates;

namespace Camelid.Cli.Commands;

/// <summary>`camelid info MODEL`: what a model file holds.</summary>
static class InfoCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "A .gguf file, a llama2.c .bin checkpoint, or a Hugging Face model folder" };
        var tokenizer = CommonOptions.Tokenizer();
        var command = new Command("info", "Show a model's architecture, shapes, parameter count, tensor types, tokenizer and chat template") { model, tokenizer };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            using var m = LlamaModel.Load(parse.GetValue(model)!, new ModelLoadOptions { TokenizerPath = parse.GetValue(tokenizer), Threads = 1 });
            Print(m);
            return Task.FromResult(0);
        }));
        return command;
    }

    static void Print(LlamaModel m)
    {
        var c = m.Config;
        Console.WriteLine($"model:          {m.Path}");
        Console.WriteLine($"name:           {m.Name}");
        Console.WriteLine($"format:         {m.Format}");
        Console.WriteLine("architecture:   llama");
        Console.WriteLine($"layers:         {c.Layers}");
        Console.WriteLine($"embedding:      {c.Dim}");
        Console.WriteLine($"feed-forward:   {c.HiddenDim}");
        Console.WriteLine($"heads:          {c.Heads} (kv heads {c.KvHeads}{(c.KvHeads < c.Heads ? ", grouped-query attention" : "")}, head size {c.HeadSize})");
        Console.WriteLine($"vocabulary:     {c.VocabSize}");
        Console.WriteLine($"context:        {c.TrainedContextLength}");
        Console.WriteLine($"rms norm eps:   {c.RmsNormEps:g}");
        Console.WriteLine($"rope theta:     {c.RopeTheta:g}{(c.RopeScaling is null ? "" : $", scaling {c.RopeScaling}")}");
        Console.WriteLine($"parameters:     {m.ParameterCount:N0} ({m.ParameterCount / 1e6:F2} M)");
        long bytes = m.Tensors.Sum(t => t.ByteCount);
        Console.WriteLine($"weights:        {bytes / (1024.0 * 1024):F2} MiB, {bytes * 8.0 / m.ParameterCount:F2} bits per weight");
        Console.WriteLine("tensor types:   " + string.Join(", ", m.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}")));
        if (m.Tokenizer is { } tok)
            Console.WriteLine($"tokenizer:      {(tok.Vocabulary.Model == "llama" ? "SentencePiece BPE" : "byte-level BPE")} ({tok.Vocabulary.Model}{(tok.Vocabulary.Pre is { } pre ? $", pre {pre}" : "")}), {tok.VocabSize} tokens, bos {tok.BosId}, eos {tok.EosId}, add bos {tok.AddBosByDefault.ToString().ToLowerInvariant()}");
        else
            Console.WriteLine("tokenizer:      none (pass --tokenizer)");
        var choice = ChatTemplates.Detect(m.ChatTemplateSource, m.Name);
        Console.WriteLine($"chat template:  {choice.Template.Name}{(choice.IsFallback ? " (fallback)" : "")}: {choice.Reason}");
    }
}
