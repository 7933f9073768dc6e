using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Camelid.Model;
using Camelid.Tokenization;
using Camelid.Tokenization.Training;

namespace Camelid.Cli.Commands;

/// <summary>
/// `camelid tokenizer train --input FILES… --vocab-size N --out DIR` and
/// `camelid tokenizer extend --base TOK --input FILES… --add N --out DIR`: learn a SentencePiece BPE tokenizer.model.
/// Each line of the input files is one training text, as spm_train reads its input.
/// </summary>
static class TokenizerCommand
{
    const long SummarySampleChars = 4L << 20; // tokens per word is measured on the first few megabytes only

    public static Command Create() => new("tokenizer", "Train a SentencePiece BPE tokenizer, or extend one with a new language's pieces")
    {
        CreateTrain(), CreateExtend(),
    };

    static Option<string[]> InputOption() => new("--input", "-i")
    {
        Description = "UTF-8 text files to learn from; each line is one text",
        Required = true,
        AllowMultipleArgumentsPerToken = true,
    };

    static Option<string> OutOption() => new("--out", "-o") { Description = "Folder to write tokenizer.model to", Required = true };

    static Option<int> MaxPieceLengthOption() => new("--max-piece-length")
    {
        Description = "Longest piece, in characters",
        DefaultValueFactory = _ => 16,
    };

    static Command CreateTrain()
    {
        var input = InputOption();
        var vocabSize = new Option<int>("--vocab-size") { Description = "Total pieces, counting <unk> <s> </s>, the 256 byte pieces, special tokens and characters", Required = true };
        var output = OutOption();
        var special = new Option<string[]>("--special") { Description = "A user-defined token that always encodes as one id, e.g. <|im_start|> (repeatable)" };
        var noByteFallback = new Option<bool>("--no-byte-fallback") { Description = "No <0xNN> byte pieces: characters without a piece become <unk>" };
        var noDummyPrefix = new Option<bool>("--no-dummy-prefix") { Description = "Do not put a space in front of each text" };
        var splitDigits = new Option<bool>("--split-digits") { Description = "Keep every digit a piece of its own, so numbers encode one digit per token (as LLaMA's tokenizer)" };
        var maxPieceLength = MaxPieceLengthOption();
        var threads = CommonOptions.Threads();
        var command = new Command("train", "Learn a SentencePiece BPE tokenizer.model from text files")
        {
            input, vocabSize, output, special, noByteFallback, noDummyPrefix, splitDigits, maxPieceLength, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            var files = CheckInputs(parse.GetValue(input));
            var options = new BpeTrainerOptions
            {
                VocabSize = parse.GetValue(vocabSize),
                ByteFallback = !parse.GetValue(noByteFallback),
                AddDummyPrefix = !parse.GetValue(noDummyPrefix),
                UserDefinedSymbols = parse.GetValue(special) ?? [],
                SplitDigits = parse.GetValue(splitDigits),
                MaxPieceLength = parse.GetValue(maxPieceLength),
                Threads = parse.GetValue(threads),
            };
            var clock = Stopwatch.StartNew();
            var vocabulary = BpeTrainer.Train(Lines(files), options);
            string path = Write(vocabulary, parse.GetValue(output)!);
            var tokenizer = Tokenizer.Create(vocabulary);
            Console.WriteLine($"wrote {path}: {vocabulary.Tokens.Count} pieces ({clock.Elapsed.TotalSeconds:F1} s)");
            PrintMeasures(tokenizer, files, "");
            return Task.FromResult(0);
        }));
        return command;
    }

    static Command CreateExtend()
    {
        var baseTokenizer = new Option<string>("--base")
        {
            Description = "The tokenizer to extend: a tokenizer.model, or a model the engine reads a tokenizer from (GGUF, Hugging Face folder)",
            Required = true,
        };
        var input = InputOption();
        var add = new Option<int>("--add") { Description = "How many new pieces to append at most", Required = true };
        var output = OutOption();
        var maxPieceLength = MaxPieceLengthOption();
        var threads = CommonOptions.Threads();
        var command = new Command("extend", "Append pieces learned from new text to an existing SentencePiece tokenizer; old ids are kept")
        {
            baseTokenizer, input, add, output, maxPieceLength, threads,
        };
        command.SetAction((parse, _) => CommonOptions.RunAsync(parse, () =>
        {
            var files = CheckInputs(parse.GetValue(input));
            var baseline = LoadBase(parse.GetValue(baseTokenizer)!);
            if (baseline.Vocabulary.Model != Vocabulary.SentencePieceModel)
                throw new ArgumentException($"{parse.GetValue(baseTokenizer)}: a byte-level BPE tokenizer cannot be extended; only SentencePiece tokenizers can");
            var clock = Stopwatch.StartNew();
            var vocabulary = BpeTrainer.Extend(baseline.Vocabulary, Lines(files), parse.GetValue(add),
                parse.GetValue(maxPieceLength), threads: parse.GetValue(threads));
            string path = Write(vocabulary, parse.GetValue(output)!);
            Console.WriteLine($"wrote {path}: {baseline.VocabSize} base pieces + {vocabulary.Tokens.Count - baseline.VocabSize} new = {vocabulary.Tokens.Count} ({clock.Elapsed.TotalSeconds:F1} s)");
            PrintMeasures(baseline, files, "base:     ");
            PrintMeasures(Tokenizer.Create(vocabulary), files, "extended: ");
            return Task.FromResult(0);
        }));
        return command;
    }

    static Tokenizer LoadBase(string path)
    {
        if (File.Exists(path) && !Formats.Gguf.GgufFile.HasGgufMagic(path) && IsTokenizerFile(path))
            return LlamaModel.LoadTokenizerFile(path);
        return LlamaModel.LoadTokenizer(path);

        // A SentencePiece ModelProto starts with field 1 (pieces), wire type 2; tokenizer.bin is llama2.c's vocabulary.
        static bool IsTokenizerFile(string file)
        {
            using var stream = File.OpenRead(file);
            return stream.ReadByte() == 0x0A || Path.GetFileName(file).StartsWith("tok", StringComparison.OrdinalIgnoreCase);
        }
    }

    static string[] CheckInputs(string[]? files)
    {
        if (files is not { Length: > 0 })
            throw new ArgumentException("give at least one --input file");
        foreach (var file in files)
            if (!File.Exists(file))
                throw new IOException($"{file}: input file not found");
        return files;
    }

    static IEnumerable<string> Lines(string[] files) => files.SelectMany(File.ReadLines);

    static string Write(Vocabulary vocabulary, string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "tokenizer.model");
        File.WriteAllBytes(path, SentencePieceModelWriter.Serialize(vocabulary));
        return path;
    }

    /// <summary>Character coverage (characters with a piece of their own rather than bytes or &lt;unk&gt;) and tokens
    /// per whitespace-separated word, on the start of the input.</summary>
    static void PrintMeasures(Tokenizer tokenizer, string[] files, string label)
    {
        var characterPieces = new HashSet<string>(StringComparer.Ordinal);
        var userDefined = new List<string>();
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            if (tokenizer.TypeOf(id) == TokenType.Normal)
                characterPieces.Add(tokenizer.TokenPiece(id));
            if (tokenizer.TypeOf(id) == TokenType.UserDefined)
                userDefined.Add(tokenizer.TokenPiece(id));
        }
        long chars = 0, covered = 0, words = 0, tokens = 0, sampled = 0;
        foreach (var line in Lines(files))
        {
            if (sampled >= SummarySampleChars)
                break;
            sampled += line.Length;
            // A user-defined symbol is one token, not characters to cover.
            string text = userDefined.Aggregate(line, (t, symbol) => t.Replace(symbol, " ", StringComparison.Ordinal));
            foreach (var rune in text.EnumerateRunes())
            {
                if (rune.Value == ' ')
                    continue;
                chars++;
                if (characterPieces.Contains(rune.ToString()))
                    covered++;
            }
            words += line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            tokens += tokenizer.Encode(line, addBos: false).Length;
        }
        string coverage = chars > 0 ? $"{100.0 * covered / chars:F2}%" : "n/a";
        string perWord = words > 0 ? $"{(double)tokens / words:F3}" : "n/a";
        Console.WriteLine($"{label}character coverage {coverage}, {perWord} tokens per word ({words} words{(sampled >= SummarySampleChars ? ", start of the input" : "")})");
    }
}
