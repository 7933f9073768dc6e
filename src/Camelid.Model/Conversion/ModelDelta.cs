// `camelid delta make|apply`: FastChat's delta-weights release flow (fastchat/model/make_delta.py, apply_delta.py),
// as Vicuna was published: delta = target − base per tensor, so the target can be shared without the base; rows of
// token_embd/output beyond the base's vocabulary (Vicuna v0's added pad token) are carried whole. Unlike FastChat,
// which adds in f16 and so does not give back the target exactly, `apply` reproduces every target weight bit for bit:
//   make   for every element, d = f32(t) − f32(b) in f32 (f32(x): F32 as is, F16/BF16 widened exactly, quantized
//          bases dequantized as the engine does); then it replays apply, r = dtype(f32(b) + d) with the reference
//          round-to-nearest-even conversion of the target's dtype, and wherever r's bits differ from t's (when
//          |t| << |b| the f32 subtraction rounds, e.g. t = 1e-10, b = 1 gives d = −1 and r = 0; NaN payloads) it
//          records a correction: the element's index and t's exact bits.
//   apply  r = dtype(f32(b) + d), then the corrections overwrite their elements: the target's bytes, exactly.
// Both sides compute the same f32 sums (element-wise IEEE additions, whatever the vector width), so the replay in
// make is what apply computes. Targets must be F32/F16/BF16 (a delta of quantized weights cannot be exact through
// requantization: apply, then quantize). Bases may be any type the engine reads.
// Checksum: per tensor, SHA-256 of the canonical name, a 0 byte, the shape as i64 and the base's values as f32 with
// rows in Meta's order; the base checksum is SHA-256 of those digests in ordinal name order. It covers values, not
// files: the same weights as a GGUF or a Hugging Face folder give the same checksum. apply checks names and shapes
// first, then the checksum over the whole base, before writing anything.
// The delta folder:
//   delta.json            DeltaManifest: base checksum, target format and files, every tensor in target file order
//   delta.safetensors     F32 delta per tensor, canonical names, the target's shape, rows in Meta's order
//   corrections.safetensors  (only when needed) "NAME:index" I64 element indices and "NAME:value" the exact target elements
//   target-*              the target's own files: HF configs and tokenizer; GGUF metadata (metadata.gguf, no tensors);
//                         llama2.c tokenizer file
// apply writes the target's format, tensor order, dtypes, shard layout and metadata. llama2.c version 0's RoPE tables,
// which run.c ignores, are recomputed rather than carried.
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Camelid.Formats;
using Camelid.Formats.Gguf;
using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;

namespace Camelid.Model.Conversion;

/// <summary>What delta make wrote: the delta folder (its F32 tensors), the base checksum and the number of corrected elements.</summary>
public sealed record DeltaResult(ConversionResult Written, string BaseSha256, int Corrections);

public static class ModelDelta
{
    public const string DeltaFile = "delta.safetensors", CorrectionsFile = "corrections.safetensors", TargetFilePrefix = "target-";
    const string GgufMetadataFile = "metadata.gguf";

    public const string ArithmeticDescription =
        "delta = f32(target) - f32(base) in f32; target = dtype(f32(base) + delta) rounded to nearest even, then corrections overwrite their elements";

    /// <summary>Block of rows handled at once: about 1 M values.</summary>
    const int BlockElements = 1 << 20;

    public static DeltaResult Make(string basePath, string targetPath, string deltaDirectory, ConversionOptions? options = null,
        string? baseTokenizer = null, string? targetTokenizer = null)
    {
        options ??= new ConversionOptions();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (ModelConverter.SameLocation(basePath, targetPath))
            throw new ArgumentException($"the base and the target are the same model ({basePath})");
        using var baseModel = ModelSource.Open(basePath, baseTokenizer);
        using var target = ModelSource.Open(targetPath, targetTokenizer);
        if (target.Unmapped.Count > 0)
            throw new ModelFormatException($"{targetPath}: holds tensors that are not LLaMA weights ({string.Join(", ", target.Unmapped.Take(3))}); delta handles LLaMA weights only");
        var nonFloat = target.Tensors.FirstOrDefault(t => !ModelConverter.IsFloat(t.Type));
        if (nonFloat != null)
            throw new ModelFormatException($"{targetPath}: tensor {nonFloat.Name} is {nonFloat.Type}; a delta needs an F32/F16/BF16 target (make it from the unquantized model, apply, then quantize)");
        CheckPairs(baseModel, target);

        var tensors = target.Tensors;
        var written = tensors.Select(t => new ConvertedTensor(t.Name, t.Shape, GgmlType.F32, t.Type, false)).ToList();
        var progress = new ProgressCounter(options, written);
        var baseDigests = new Dictionary<string, string>();
        var corrections = new Dictionary<string, (long[] Index, byte[] Value)>();
        var shardOf = ShardsOf(target, out var shardMetadata);

        AtomicOutput.WriteFolder(deltaDirectory, directory =>
        {
            SafetensorsWriter.Write(Path.Combine(directory, DeltaFile), tensors.Select((t, i) => new SafetensorsWriter.StreamedTensor(
                t.Name, GgmlType.F32, t.Shape, 4 * t.Shape.Aggregate(1L, (a, b) => a * b), stream =>
                {
                    progress.Start(i);
                    var (digest, fixes) = WriteDelta(stream, baseModel.Find(t.Name)!, t, progress.Advance, options.Cancellation);
                    baseDigests[t.Name] = digest;
                    if (fixes.Index.Length > 0)
                        corrections[t.Name] = fixes;
                })), new Dictionary<string, string> { ["format"] = DeltaManifest.FormatName });
            if (corrections.Count > 0)
                SafetensorsWriter.Write(Path.Combine(directory, CorrectionsFile), corrections.SelectMany(c => new[]
                {
                    (c.Key + ":index", GgmlType.I64, new long[] { c.Value.Index.Length }, MemoryMarshal.AsBytes(c.Value.Index.AsSpan()).ToArray()),
                    (c.Key + ":value", target.Find(c.Key)!.Type, new long[] { c.Value.Index.Length }, c.Value.Value),
                }));
            var files = CopyTargetFiles(target, directory);
            new DeltaManifest
            {
                Base = new DeltaBase(BaseChecksum.Combine(baseDigests.Select(kv => (kv.Key, kv.Value))), baseModel.Name,
                    baseModel.Tensors.Count, baseModel.Tensors.Sum(t => t.Stored.ElementCount)),
                Target = new DeltaTarget(FormatName(target.Format), target.Name, files,
                    GgufVersion: target.Gguf?.Version,
                    Llama2cVersion: target.Llama2c?.Version, Llama2cHeader: target.Llama2c?.Header,
                    Shards: shardMetadata),
                Tensors = tensors.Select(t => new DeltaTensor(t.Name, t.Stored.Name, SafetensorsFile.DTypeName(t.Type), t.Shape,
                    baseModel.Find(t.Name)!.Rows, baseDigests[t.Name], corrections.TryGetValue(t.Name, out var c) ? c.Index.Length : 0,
                    shardOf?.GetValueOrDefault(t.Stored.Name))).ToList(),
            }.Write(Path.Combine(directory, DeltaManifest.FileName));
        }, IsDeltaFile);

        string full = Path.GetFullPath(deltaDirectory);
        var folder = new ConversionResult(full, LlamaFileType.AllF32, Directory.GetFiles(full).Sum(f => new FileInfo(f).Length), written, clock.Elapsed);
        return new DeltaResult(folder, BaseChecksum.Combine(baseDigests.Select(kv => (kv.Key, kv.Value))), corrections.Values.Sum(c => c.Index.Length));
    }

    public static bool IsDeltaFile(string name) =>
        name is DeltaManifest.FileName or DeltaFile or CorrectionsFile || name.StartsWith(TargetFilePrefix, StringComparison.Ordinal);

    /// <summary>Same names; same shapes, except that token_embd/output of the target may have more rows (added tokens).</summary>
    static void CheckPairs(ModelSource baseModel, ModelSource target)
    {
        var missing = target.Tensors.Where(t => baseModel.Find(t.Name) == null).Select(t => t.Name).ToList();
        var extra = baseModel.Tensors.Where(t => target.Find(t.Name) == null).Select(t => t.Name).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ModelFormatException($"the base ({baseModel.Path}) and the target ({target.Path}) hold different tensors: " +
                string.Join("; ", new[]
                {
                    missing.Count > 0 ? $"only the target has {string.Join(", ", missing.Take(3))}" : null,
                    extra.Count > 0 ? $"only the base has {string.Join(", ", extra.Take(3))}" : null,
                }.Where(s => s != null)) + " (a tied and an untied output head, or a different number of layers?)");
        foreach (var t in target.Tensors)
        {
            var b = baseModel.Find(t.Name)!;
            bool vocabularyRows = t.Name is "token_embd.weight" or "output.weight";
            bool same = b.Shape.SequenceEqual(t.Shape);
            bool extended = vocabularyRows && b.Shape.Length == 2 && t.Shape.Length == 2 && b.Cols == t.Cols && t.Rows > b.Rows;
            if (!same && !extended)
                throw new ModelFormatException($"tensor {t.Name} is {TensorEntry.FormatShape(b.Shape)} in the base but {TensorEntry.FormatShape(t.Shape)} in the target; " +
                    (vocabularyRows ? "only added vocabulary rows (more rows, same columns) can differ" : "they are not the same architecture"));
        }
    }

    /// <summary>Writes the f32 delta of one tensor, block by block; returns the base tensor's digest and the corrections.</summary>
    static (string Digest, (long[] Index, byte[] Value) Fixes) WriteDelta(Stream stream, SourceTensor b, SourceTensor t,
        Action<long> advance, CancellationToken cancellation)
    {
        int cols = t.Cols, elementBytes = (int)GgmlTypes.RowBytes(t.Type, 1);
        long rows = t.Rows, baseRows = b.Rows;
        int blockRows = (int)Math.Clamp(BlockElements / cols, 1, rows);
        var baseValues = new float[blockRows * cols];
        var targetValues = new float[blockRows * cols];
        var delta = new float[blockRows * cols];
        var replay = new byte[blockRows * cols * elementBytes];
        var stored = new byte[blockRows * cols * elementBytes];
        var fixIndex = new List<long>();
        var fixValue = new List<byte>();
        using var hash = BaseChecksum.Begin(b.Name, b.Shape);
        for (long first = 0; first < rows; first += blockRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = (int)Math.Min(blockRows, rows - first), n = count * cols;
            int fromBase = (int)Math.Clamp(baseRows - first, 0, count) * cols;
            t.ReadRows(first, count, targetValues.AsSpan(0, n));
            t.CopyRows(first, count, stored.AsSpan(0, n * elementBytes));
            if (fromBase > 0)
            {
                b.ReadRows(first, fromBase / cols, baseValues.AsSpan(0, fromBase));
                hash.AppendData(MemoryMarshal.AsBytes(baseValues.AsSpan(0, fromBase)));
                TensorPrimitives.Subtract(targetValues.AsSpan(0, fromBase), baseValues.AsSpan(0, fromBase), delta.AsSpan(0, fromBase));
            }
            targetValues.AsSpan(fromBase, n - fromBase).CopyTo(delta.AsSpan(fromBase));
            Rebuild(t.Type, cols, baseValues.AsSpan(0, fromBase), delta.AsSpan(0, n), targetValues.AsSpan(0, n), replay.AsSpan(0, n * elementBytes));
            var replayed = replay.AsSpan(0, n * elementBytes);
            var exact = stored.AsSpan(0, n * elementBytes);
            if (!replayed.SequenceEqual(exact))
                for (int i = 0; i < n; i++)
                {
                    var want = exact.Slice(i * elementBytes, elementBytes);
                    if (!replayed.Slice(i * elementBytes, elementBytes).SequenceEqual(want))
                    {
                        fixIndex.Add(first * cols + i);
                        fixValue.AddRange(want);
                    }
                }
            stream.Write(MemoryMarshal.AsBytes(delta.AsSpan(0, n)));
            advance(4L * n);
        }
        return (BaseChecksum.Hex(hash.GetHashAndReset()), ([.. fixIndex], [.. fixValue]));
    }

    /// <summary>
    /// The target elements apply computes: dtype(base + delta) for the first base.Length values, dtype(delta) after
    /// them. <paramref name="sums"/> is scratch of delta's length.
    /// </summary>
    static void Rebuild(GgmlType dtype, int cols, ReadOnlySpan<float> baseValues, ReadOnlySpan<float> delta, Span<float> sums, Span<byte> destination)
    {
        TensorPrimitives.Add(baseValues, delta[..baseValues.Length], sums[..baseValues.Length]);
        delta[baseValues.Length..].CopyTo(sums[baseValues.Length..]);
        int rowBytes = (int)GgmlTypes.RowBytes(dtype, cols);
        for (int r = 0; r < delta.Length / cols; r++)
            Quantizer.QuantizeRow(dtype, sums.Slice(r * cols, cols), destination.Slice(r * rowBytes, rowBytes));
    }

    /// <summary>HF targets: the shard that holds each tensor, and each shard's metadata.</summary>
    static Dictionary<string, string>? ShardsOf(ModelSource target, out Dictionary<string, Dictionary<string, string>>? metadata)
    {
        metadata = null;
        if (target.HfFolder is not { } folder)
            return null;
        var shardOf = new Dictionary<string, string>();
        metadata = [];
        foreach (var path in folder.WeightFiles)
        {
            using var shard = SafetensorsFile.Open(path);
            string file = Path.GetFileName(path);
            metadata[file] = shard.Metadata.ToDictionary();
            foreach (var t in shard.Tensors)
                shardOf[t.Name] = file;
        }
        return shardOf;
    }

    /// <summary>Copies the target's files other than weights into the delta as target-NAME; returns the NAMEs.</summary>
    static List<string> CopyTargetFiles(ModelSource target, string directory)
    {
        var files = new List<string>();
        void Keep(string name, Action<string> write)
        {
            write(Path.Combine(directory, TargetFilePrefix + name));
            files.Add(name);
        }
        switch (target.Format)
        {
            case ModelFormat.HuggingFace:
                foreach (var path in Directory.GetFiles(target.Path).Order(StringComparer.Ordinal))
                    if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                        Keep(Path.GetFileName(path), to => File.Copy(path, to));
                break;
            case ModelFormat.Gguf:
                var gguf = target.Gguf!;
                var writer = new GgufWriter { Version = gguf.Version };
                foreach (var key in gguf.MetadataKeys)
                    writer.Add(key, gguf.Metadata.Get(key)!);
                Keep(GgufMetadataFile, writer.Write);
                break;
            case ModelFormat.Llama2c when target.TokenizerPath != null:
                Keep(Path.GetFileName(target.TokenizerPath), to => File.Copy(target.TokenizerPath, to));
                break;
        }
        return files;
    }

    static string FormatName(ModelFormat format) => format switch
    {
        ModelFormat.Gguf => "gguf",
        ModelFormat.HuggingFace => "hf",
        _ => "llama2c",
    };

    /// <summary>Rebuilds the target from the base and the delta, in the target's format, bit for bit.</summary>
    /// <param name="outputPath">A .gguf or llama2.c file, or a folder for a Hugging Face target.</param>
    public static ConversionResult Apply(string basePath, string deltaDirectory, string outputPath, ConversionOptions? options = null,
        string? baseTokenizer = null)
    {
        options ??= new ConversionOptions();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var manifest = DeltaManifest.Read(deltaDirectory);
        if (ModelConverter.SameLocation(basePath, outputPath) || ModelConverter.SameLocation(deltaDirectory, outputPath))
            throw new ArgumentException($"the output {outputPath} would overwrite an input; write the target to another path");
        using var baseModel = ModelSource.Open(basePath, baseTokenizer);
        VerifyBase(baseModel, manifest, options.Cancellation);

        using var delta = SafetensorsFile.Open(Path.Combine(deltaDirectory, DeltaFile));
        string correctionsPath = Path.Combine(deltaDirectory, CorrectionsFile);
        using var corrections = File.Exists(correctionsPath) ? SafetensorsFile.Open(correctionsPath) : null;
        RowBytesSource Exact(DeltaTensor m) => TargetRows(m, baseModel.Find(m.Name)!, delta, corrections, deltaDirectory);
        var written = manifest.Tensors.Select(m => new ConvertedTensor(m.StoredName, m.Shape, DType(m), baseModel.Find(m.Name)!.Type, false)).ToList();
        string TargetFile(string name) => Path.Combine(deltaDirectory, TargetFilePrefix + name);

        ConversionResult result;
        switch (manifest.Target.Format)
        {
            case "gguf":
            {
                using var header = GgufFile.Open(TargetFile(GgufMetadataFile));
                var metadata = header.MetadataKeys.Select(k => (k, header.Metadata.Get(k)!)).ToList();
                var fileType = header.Metadata.TryGetInt64("general.file_type") is long ft && Enum.IsDefined((LlamaFileType)ft) ? (LlamaFileType)ft : LlamaFileType.AllF32;
                var planned = manifest.Tensors.Select((m, i) => new PlannedTensor(written[i], null, null, Exact(m))).ToList();
                result = GgufOutput.Write(outputPath, fileType, metadata, planned, options, manifest.Target.GgufVersion ?? 3);
                break;
            }
            case "hf":
            {
                var progress = new ProgressCounter(options, written);
                var headSize = HeadSizeOf(TargetFile(HfFolderWriter.ConfigFile));
                AtomicOutput.WriteFolder(outputPath, directory =>
                {
                    foreach (var file in manifest.Target.Files)
                        File.Copy(TargetFile(file), Path.Combine(directory, file));
                    foreach (var shard in manifest.Tensors.Select((m, i) => (m, i)).GroupBy(p => p.m.Shard ?? HfFolderWriter.SingleWeightsFile))
                        SafetensorsWriter.Write(Path.Combine(directory, shard.Key), shard.Select(p =>
                        {
                            var (m, i) = p;
                            var type = DType(m);
                            long rowBytes = GgmlTypes.RowBytes(type, m.Shape[^1]);
                            var rows = WrittenRows.IsRotary(m.Name) ? WrittenRows.InHfOrder(Exact(m), rowBytes, headSize) : Exact(m);
                            return new SafetensorsWriter.StreamedTensor(m.StoredName, type, m.Shape, written[i].ByteCount, stream =>
                            {
                                progress.Start(i);
                                TensorStreamer.WriteBytes(stream, RowsOf(m.Shape), rowBytes, rows, progress.Advance, options.Cancellation);
                            });
                        }), manifest.Target.Shards?.GetValueOrDefault(shard.Key));
                }, name => HfFolderWriter.IsModelFolderFile(name) || manifest.Target.Files.Contains(name));
                string full = Path.GetFullPath(outputPath);
                result = new ConversionResult(full, ModelConverter.FloatFileType(written.First(w => w.Shape.Length == 2).Type), Directory.GetFiles(full).Sum(f => new FileInfo(f).Length), written, TimeSpan.Zero);
                break;
            }
            case "llama2c":
            {
                var header = manifest.Target.Llama2cHeader ?? throw new ModelFormatException($"{deltaDirectory}: the manifest of a llama2.c target has no llama2c_header");
                var byName = manifest.Tensors.ToDictionary(m => m.Name);
                string? tokenizer = manifest.Target.Files.FirstOrDefault();
                Llama2cOutput.Write(outputPath, header, manifest.Target.Llama2cVersion ?? 0, name => Exact(byName[name]),
                    tokenizer != null ? File.ReadAllBytes(TargetFile(tokenizer)) : null,
                    tokenizer != null ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, tokenizer) : null,
                    written.Select((w, i) => w with { Name = manifest.Tensors[i].Name }).ToList(), options);
                string full = Path.GetFullPath(outputPath);
                result = new ConversionResult(full, LlamaFileType.AllF32, new FileInfo(full).Length, written, TimeSpan.Zero);
                break;
            }
            default:
                throw new ModelFormatException($"{deltaDirectory}: unknown target format '{manifest.Target.Format}' in {DeltaManifest.FileName}");
        }
        return result with { Elapsed = clock.Elapsed };
    }

    /// <summary>Names and shapes, then the checksum of every base tensor; any difference is a wrong base, reported before anything is written.</summary>
    static void VerifyBase(ModelSource baseModel, DeltaManifest manifest, CancellationToken cancellation)
    {
        string expected = $"the delta was made from {manifest.Base.Name} (base sha256 {manifest.Base.Sha256})";
        ModelFormatException WrongBase(string found) =>
            new($"wrong base: {expected}, but {baseModel.Path} {found}; apply the delta to the model it was made from");
        var names = manifest.Tensors.Select(m => m.Name).ToHashSet();
        if (baseModel.Tensors.FirstOrDefault(t => !names.Contains(t.Name)) is { } extra)
            throw WrongBase($"has tensor {extra.Name}, which that base does not");
        foreach (var m in manifest.Tensors)
        {
            var b = baseModel.Find(m.Name) ?? throw WrongBase($"has no tensor {m.Name}");
            if (b.Rows != m.BaseRows || b.Cols != m.Shape[^1] || b.Shape.Length != m.Shape.Length)
                throw WrongBase($"has {m.Name} of shape {TensorEntry.FormatShape(b.Shape)} (the delta's base had {m.BaseRows} rows of {m.Shape[^1]})");
        }
        var digests = new List<(string Name, string Sha256)>();
        var differing = new List<string>();
        foreach (var m in manifest.Tensors.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            string digest = Digest(baseModel.Find(m.Name)!, cancellation);
            digests.Add((m.Name, digest));
            if (digest != m.BaseSha256)
                differing.Add(m.Name);
        }
        string found = BaseChecksum.Combine(digests);
        if (differing.Count > 0 || found != manifest.Base.Sha256)
            throw WrongBase($"is {baseModel.Name} (base sha256 {found}): {differing.Count} of {manifest.Tensors.Count} tensors differ, first {differing.FirstOrDefault()}");
    }

    static string Digest(SourceTensor b, CancellationToken cancellation)
    {
        int cols = b.Cols;
        int blockRows = (int)Math.Clamp(BlockElements / cols, 1, Math.Max(1, b.Rows));
        var values = new float[blockRows * cols];
        using var hash = BaseChecksum.Begin(b.Name, b.Shape);
        for (long first = 0; first < b.Rows; first += blockRows)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = (int)Math.Min(blockRows, b.Rows - first);
            b.ReadRows(first, count, values.AsSpan(0, count * cols));
            hash.AppendData(MemoryMarshal.AsBytes(values.AsSpan(0, count * cols)));
        }
        return BaseChecksum.Hex(hash.GetHashAndReset());
    }

    /// <summary>Canonical rows of the rebuilt target tensor in its dtype: dtype(base + delta), corrections applied.</summary>
    static RowBytesSource TargetRows(DeltaTensor m, SourceTensor b, SafetensorsFile delta, SafetensorsFile? corrections, string deltaDirectory)
    {
        var type = DType(m);
        var d = delta.Find(m.Name);
        if (d == null || d.Type != GgmlType.F32 || !d.Shape.SequenceEqual(m.Shape))
            throw new ModelFormatException($"{deltaDirectory}: {DeltaFile} has no F32 tensor {m.Name} of shape {TensorEntry.FormatShape(m.Shape)}; the delta folder is incomplete or corrupted");
        long[] fixIndex = [];
        byte[] fixValue = [];
        int elementBytes = (int)GgmlTypes.RowBytes(type, 1);
        if (m.Corrections > 0)
        {
            var index = corrections?.Find(m.Name + ":index");
            var value = corrections?.Find(m.Name + ":value");
            if (index is not { Type: GgmlType.I64 } || value == null || index.ElementCount != m.Corrections || value.ByteCount != (long)m.Corrections * elementBytes)
                throw new ModelFormatException($"{deltaDirectory}: {CorrectionsFile} lacks the {m.Corrections} corrections of {m.Name}; the delta folder is incomplete or corrupted");
            fixIndex = MemoryMarshal.Cast<byte, long>(index.Bytes).ToArray();
            fixValue = value.Bytes.ToArray();
        }
        int cols = checked((int)m.Shape[^1]);
        long baseRows = m.BaseRows;
        float[] baseValues = [], sums = [];
        return (first, count, destination) =>
        {
            int n = count * cols;
            if (sums.Length < n)
            {
                baseValues = new float[n];
                sums = new float[n];
            }
            int fromBase = (int)Math.Clamp(baseRows - first, 0, count) * cols;
            if (fromBase > 0)
                b.ReadRows(first, fromBase / cols, baseValues.AsSpan(0, fromBase));
            var deltaValues = MemoryMarshal.Cast<byte, float>(d.RowBytes(first, count));
            Rebuild(type, cols, baseValues.AsSpan(0, fromBase), deltaValues, sums.AsSpan(0, n), destination);
            long start = first * cols, end = start + n;
            int k = Array.BinarySearch(fixIndex, start);
            for (k = k < 0 ? ~k : k; k < fixIndex.Length && fixIndex[k] < end; k++)
                fixValue.AsSpan(k * elementBytes, elementBytes).CopyTo(destination[(int)((fixIndex[k] - start) * elementBytes)..]);
        };
    }

    static GgmlType DType(DeltaTensor m) => SafetensorsFile.DTypes.TryGetValue(m.Dtype, out var t) && ModelConverter.IsFloat(t) ? t
        : throw new ModelFormatException($"tensor {m.Name}: dtype '{m.Dtype}' in {DeltaManifest.FileName} is not F32, F16 or BF16");

    static long RowsOf(long[] shape) => shape.Length <= 1 ? 1 : shape[..^1].Aggregate(1L, (a, b) => a * b);

    static int HeadSizeOf(string configPath)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(configPath));
        var config = LlamaConfig.FromHfConfig(doc.RootElement, configPath);
        return config.HeadSize;
    }
}
