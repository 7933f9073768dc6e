// `camelid convert IN --to gguf|hf|llama2c [--type T] --out OUT`: any model the engine reads, rewritten in another of
// its formats with the tokenizer, streaming tensor by tensor (one block of rows in memory at a time). Every weight
// goes through its canonical form (ModelSource: GGUF names, Meta's row order), so each output only maps names and,
// for Hugging Face, permutes Q/K rows back to rotate-half order.
//   --to gguf     metadata copied from a GGUF input (as `quantize` does), else built from the config and the
//                 vocabulary (GgufModelKeys); Llama-3 RoPE scaling from config.json becomes rope_freqs.weight;
//                 tensors in llama-quantize's (layer, name) order; 1-D tensors (norms) F32 as llama.cpp stores them;
//                 without --type every matrix keeps its stored type (bytes copied), with --type TensorTypeRules
//                 decides, exactly as `camelid quantize`.
//   --to hf       config.json, generation_config.json, tokenizer files, model.safetensors (5 GB shards beyond);
//                 F32/F16/BF16 only: without --type each tensor keeps a float stored type, quantized tensors are
//                 dequantized to F32 (exactly the values the engine computes with); with --type every tensor is that type.
//   --to llama2c  version 0 f32 checkpoint plus tok{vocab}.bin beside it (Llama2cOutput says what is refused).
// A conversion to the same float type copies bytes, so f32/f16/bf16 round trips are exact; see docs/formats.md.
using Camelid.Formats;
using Camelid.Model.Adapters;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

public static class ModelConverter
{
    static readonly string[] DroppedGgufKeys = ["split.no", "split.count", "split.tensors.count", "general.quantization_version", "general.file_type"];

    /// <param name="fileType">The weight type; null keeps each tensor's stored type where the output format can hold it.</param>
    /// <param name="tokenizerPath">The tokenizer of a llama2.c checkpoint, when it is not beside it.</param>
    /// <param name="note">Told what changes on the way (dequantized tensors, dropped tensors, token types tokenizer.bin cannot keep).</param>
    /// <param name="merge">LoRA adapters merged into the weights on the way (`camelid merge-lora`).</param>
    public static ConversionResult Convert(string inputPath, string outputPath, ModelFormat to, LlamaFileType? fileType = null,
        string? tokenizerPath = null, ConversionOptions? options = null, Action<string>? note = null,
        IReadOnlyList<(LoraAdapter Adapter, float Scale)>? merge = null)
    {
        ArgumentNullException.ThrowIfNull(inputPath);
        ArgumentNullException.ThrowIfNull(outputPath);
        options ??= new ConversionOptions();
        note ??= _ => { };
        if (SameLocation(inputPath, outputPath))
            throw new ArgumentException($"the output {outputPath} is the input; write the converted model to another path");
        using var source = ModelSource.Open(inputPath, tokenizerPath);
        if (source.Vocabulary == null)
            throw new ModelFormatException(source.Format == ModelFormat.Llama2c
                ? $"{inputPath}: no tokenizer beside this llama2.c checkpoint (tok{source.Config.VocabSize}.bin or tokenizer.bin); convert writes the tokenizer with the model: pass --tokenizer FILE"
                : $"{inputPath}: the model has no tokenizer; convert writes the tokenizer with the model: pass --tokenizer FILE");
        if (merge is { Count: > 0 })
        {
            source.MergeAdapters(merge);
            var requantized = source.Tensors.Where(t => t.IsModified && GgmlTypes.IsQuantized(fileType is { } ft ? LlamaFileTypes.DefaultTensorType(ft) : t.Type)).ToList();
            if (requantized.Count > 0 && to == ModelFormat.Gguf)
                note($"warning: {requantized.Count} merged matri(ces) are re-quantized ({string.Join(", ", requantized.Select(t => t.Type).Distinct())}): " +
                     "the merged weights are rounded again, so the result differs slightly from base + adapter; merge into an f32 or f16 base for exact weights");
        }
        if (source.Unmapped.Count > 0)
            note($"{source.Unmapped.Count} tensor(s) that are not LLaMA weights are left out: {string.Join(", ", source.Unmapped.Take(3))}");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = to switch
        {
            ModelFormat.Gguf => ToGguf(source, outputPath, fileType, options),
            ModelFormat.HuggingFace => ToHuggingFace(source, outputPath, fileType, options, note),
            ModelFormat.Llama2c => ToLlama2c(source, outputPath, fileType, options, note),
            _ => throw new ArgumentOutOfRangeException(nameof(to), to, null),
        };
        return result with { Elapsed = clock.Elapsed };
    }

    public static ModelFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "gguf" => ModelFormat.Gguf,
        "hf" or "huggingface" or "safetensors" => ModelFormat.HuggingFace,
        "llama2c" or "llama2.c" => ModelFormat.Llama2c,
        _ => throw new ArgumentException($"unknown format '{name}': use gguf, hf or llama2c"),
    };

    static ConversionResult ToGguf(ModelSource source, string outputPath, LlamaFileType? fileType, ConversionOptions options)
    {
        var tensors = source.Tensors.ToList();
        if (source.Gguf == null && GgufModelKeys.RopeDivisors(source.Config) is { } divisors)
            tensors.Add(new SourceTensor("rope_freqs.weight", TensorEntry.FromFloats("rope_freqs.weight", [divisors.Length], divisors)));
        tensors.Sort((a, b) => TensorTypeRules.CompareForFileOrder(a.Name, b.Name));
        var rules = fileType is { } ft ? new TensorTypeRules(ft, tensors.Select(t => t.Name), source.Config) : null;
        var planned = tensors.Select(t =>
        {
            bool fellBack = false;
            var type = !TensorTypeRules.AllowsConversion(t.Name, t.Shape) ? GgmlType.F32
                : rules?.TypeFor(t.Name, t.Shape, t.Type, out fellBack) ?? t.Type;
            var info = new ConvertedTensor(t.Name, t.Shape, type, t.Type, fellBack);
            return type != t.Type || t.IsModified ? new PlannedTensor(info, t.ReadRows, null)
                : t.IsPermuted ? new PlannedTensor(info, null, null, t.CopyRows)
                : new PlannedTensor(info, null, t.Stored);
        }).ToList();

        var written = fileType ?? FileTypeOf(source);
        IEnumerable<(string Key, object Value)> metadata = source.Gguf is { } gguf
            ? gguf.MetadataKeys.Where(k => !DroppedGgufKeys.Contains(k)).Select(k => (k, gguf.Metadata.Get(k)!))
            : GgufModelKeys.Model(source.Config, source.Name).Concat(GgufModelKeys.Tokenizer(source.Vocabulary!, source.ChatTemplate));
        return GgufOutput.Write(outputPath, written, metadata.Concat(GgufModelKeys.FileType(written)), planned, options);
    }

    static ConversionResult ToHuggingFace(ModelSource source, string outputPath, LlamaFileType? fileType, ConversionOptions options, Action<string> note)
    {
        GgmlType? dtype = fileType is { } ft ? LlamaFileTypes.DefaultTensorType(ft) : null;
        if (dtype is { } d && !IsFloat(d))
            throw new ArgumentException($"Hugging Face folders hold F32, F16 or BF16 weights, not {LlamaFileTypes.Name(fileType!.Value)}; quantize a GGUF instead");
        var hfNames = ModelSource.NamesIn(TensorNames.HuggingFace, source.Config);
        var tensors = source.Tensors.Where(t => hfNames.ContainsKey(t.Name))
            .OrderBy(t => t.Name, Comparer<string>.Create(TensorTypeRules.CompareForFileOrder)).ToList();
        GgmlType TypeOf(SourceTensor t) => dtype ?? (IsFloat(t.Type) ? t.Type : GgmlType.F32);
        NoteDequantized(source, TypeOf, note);

        var written = tensors.Select(t => new ConvertedTensor(hfNames[t.Name], t.Shape, TypeOf(t), t.Type, false)).ToList();
        var progress = new ProgressCounter(options, written);
        var weights = tensors.Select((t, i) =>
        {
            var type = TypeOf(t);
            long rowBytes = GgmlTypes.RowBytes(type, t.Cols);
            var rows = WrittenRows.Converted(t, type);
            if (WrittenRows.IsRotary(t.Name))
                rows = WrittenRows.InHfOrder(rows, rowBytes, source.Config.HeadSize);
            return new HfFolderWriter.Weight(written[i].Name, type, t.Shape, stream =>
            {
                progress.Start(i);
                TensorStreamer.WriteBytes(stream, t.Rows, rowBytes, rows, progress.Advance, options.Cancellation);
            });
        }).ToList();
        var matrixType = TypeOf(source.Find(TensorNames.Gguf.TokenEmbedding)!);
        AtomicOutput.WriteFolder(outputPath, directory =>
        {
            HfFolderWriter.WriteConfigAndTokenizer(directory, source.Config, source.TiedOutput, source.Vocabulary!, matrixType, source.Name, source.ChatTemplate);
            HfFolderWriter.WriteWeights(directory, weights);
        }, HfFolderWriter.IsModelFolderFile);
        string full = Path.GetFullPath(outputPath);
        long bytes = Directory.GetFiles(full).Sum(f => new FileInfo(f).Length);
        return new ConversionResult(full, FloatFileType(matrixType), bytes, written, TimeSpan.Zero);
    }

    static ConversionResult ToLlama2c(ModelSource source, string outputPath, LlamaFileType? fileType, ConversionOptions options, Action<string> note)
    {
        if (fileType is { } ft && ft != LlamaFileType.AllF32)
            throw new ArgumentException($"llama2.c checkpoints (version {Llama2cOutput.WrittenVersion}, what run.c reads) hold f32 weights only, not {LlamaFileTypes.Name(ft)}");
        var vocabulary = source.Vocabulary!;
        if (Llama2cOutput.Problem(source.Config, vocabulary) is { } problem)
            throw new ArgumentException($"{source.Path} cannot be written as a llama2.c checkpoint: {problem}; convert it to gguf or hf instead");
        var header = Llama2cOutput.HeaderOf(source.Config, source.TiedOutput);
        if (Formats.Llama2c.Llama2cCheckpoint.HeaderProblem(header) is { } headerProblem)
            throw new ArgumentException($"{source.Path} cannot be written as a llama2.c checkpoint: {headerProblem}");
        NoteDequantized(source, _ => GgmlType.F32, note);
        if (Llama2cOutput.UntypedTokens(vocabulary) is > 0 and var untyped)
            note($"{untyped} token(s) are user-defined, control or unused; tokenizer.bin stores no token types, so they become normal pieces");

        var names = ModelSource.NamesIn(TensorNames.Meta, source.Config);
        var written = source.Tensors.Where(t => names.ContainsKey(t.Name))
            .Select(t => new ConvertedTensor(t.Name, t.Shape, GgmlType.F32, t.Type, false)).ToList();
        string tokenizerPath = Llama2cOutput.TokenizerPathBeside(outputPath, vocabulary.Tokens.Count);
        Llama2cOutput.Write(outputPath, header, Llama2cOutput.WrittenVersion, name => WrittenRows.Converted(source.Find(name)!, GgmlType.F32),
            Llama2cOutput.TokenizerBin(vocabulary), tokenizerPath, written, options);
        string full = Path.GetFullPath(outputPath);
        note($"wrote the tokenizer as {tokenizerPath} (llama2.c's run: -z {Path.GetFileName(tokenizerPath)})");
        return new ConversionResult(full, LlamaFileType.AllF32, new FileInfo(full).Length, written, TimeSpan.Zero);
    }

    static void NoteDequantized(ModelSource source, Func<SourceTensor, GgmlType> typeOf, Action<string> note)
    {
        var quantized = source.Tensors.Where(t => GgmlTypes.IsQuantized(t.Type)).ToList();
        if (quantized.Count == 0)
            return;
        var to = quantized.Select(typeOf).Distinct();
        note($"{quantized.Count} quantized tensor(s) ({string.Join(", ", quantized.Select(t => t.Type).Distinct())}) are dequantized to " +
             $"{string.Join("/", to)}: the output holds the quantized model's values, not the original weights, and is larger");
    }

    internal static bool IsFloat(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    internal static LlamaFileType FloatFileType(GgmlType type) => type switch
    {
        GgmlType.F16 => LlamaFileType.MostlyF16,
        GgmlType.BF16 => LlamaFileType.MostlyBF16,
        _ => LlamaFileType.AllF32,
    };

    /// <summary>The input's general.file_type, else the type of most of its weight matrices.</summary>
    internal static LlamaFileType FileTypeOf(ModelSource source)
    {
        if (source.Gguf?.Metadata.TryGetInt64("general.file_type") is long stored && Enum.IsDefined((LlamaFileType)stored))
            return (LlamaFileType)stored;
        var common = source.Tensors.Where(t => t.Shape.Length >= 2).GroupBy(t => t.Type).OrderByDescending(g => g.Count()).First().Key;
        return common switch
        {
            GgmlType.Q4_0 => LlamaFileType.MostlyQ4_0,
            GgmlType.Q4_1 => LlamaFileType.MostlyQ4_1,
            GgmlType.Q5_0 => LlamaFileType.MostlyQ5_0,
            GgmlType.Q5_1 => LlamaFileType.MostlyQ5_1,
            GgmlType.Q8_0 => LlamaFileType.MostlyQ8_0,
            GgmlType.Q4_K => LlamaFileType.MostlyQ4_K_M,
            GgmlType.Q5_K => LlamaFileType.MostlyQ5_K_M,
            GgmlType.Q6_K => LlamaFileType.MostlyQ6_K,
            var other => FloatFileType(other),
        };
    }

    internal static bool SameLocation(string a, string b)
    {
        static string Resolve(string p)
        {
            var full = Path.GetFullPath(p).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : full;
        }
        return string.Equals(Resolve(a), Resolve(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }
}
