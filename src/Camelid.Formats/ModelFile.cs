// Recognises a model by its content, not its name, from the first bytes of a file or the files of a folder:
//   "GGUF" magic                                      -> GGUF (llama.cpp)
//   u64 header length fitting the file + '{'          -> safetensors (a bare file, without config.json)
//   "ak42" magic, or 7 plausible i32 hyper-parameters -> llama2.c checkpoint (the legacy format has no magic)
//   a folder with config.json                         -> Hugging Face model folder
// and explains the usual wrong inputs: PyTorch checkpoints (zip archives or bare pickles), pre-GGUF ggml files,
// folders without config.json, missing paths.
using System.Buffers.Binary;
using Camelid.Formats.Gguf;
using Camelid.Formats.HuggingFace;
using Camelid.Formats.Llama2c;

namespace Camelid.Formats;

public enum ModelFileKind
{
    Gguf,
    Llama2c,
    HuggingFaceFolder,
    Safetensors,
}

public static class ModelFile
{
    const int LlamaHeaderProbe = Llama2cCheckpoint.LegacyHeaderBytes;
    const string ConvertAdvice = "convert it to GGUF (llama.cpp's convert_hf_to_gguf.py) or to safetensors";

    public static ModelFileKind Detect(string path)
    {
        if (Directory.Exists(path))
            return DetectFolder(path);
        if (!File.Exists(path))
            throw new ModelFormatException($"{path}: no such file or folder");

        Span<byte> head = stackalloc byte[LlamaHeaderProbe];
        long length;
        int read;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            length = stream.Length;
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot read ({e.Message})", e);
        }
        head = head[..read];
        if (length == 0)
            throw new ModelFormatException($"{path}: the file is empty");

        uint magic = read >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(head) : 0;
        if (magic == GgufFile.Magic)
            return ModelFileKind.Gguf;
        if (magic == Llama2cCheckpoint.Magic)
            return ModelFileKind.Llama2c;
        if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
            throw new ModelFormatException($"{path}: looks like a PyTorch checkpoint (a zip archive, as torch.save writes); Camelid does not read pickles: {ConvertAdvice}");
        if (read >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
            throw new ModelFormatException($"{path}: looks like a PyTorch checkpoint (a Python pickle); Camelid does not read pickles: {ConvertAdvice}");
        if (magic is 0x67676d6c or 0x67676d66 or 0x67676a74) // "ggml", "ggmf", "ggjt": llama.cpp's formats before GGUF
            throw new ModelFormatException($"{path}: an old ggml/ggmf/ggjt model from before GGUF; convert it with llama.cpp's convert_llama_ggml_to_gguf.py");
        if (read >= 9 && head[8] == '{' && BinaryPrimitives.ReadUInt64LittleEndian(head) is var n && n <= (ulong)(length - 8))
            return ModelFileKind.Safetensors;
        if (read >= Llama2cCheckpoint.LegacyHeaderBytes && Llama2cCheckpoint.TryReadLegacyHeader(head, out _) != null)
            return ModelFileKind.Llama2c;
        throw new ModelFormatException($"{path}: not a model file Camelid reads (GGUF, safetensors, a llama2.c checkpoint, or a Hugging Face folder with config.json); it starts with {Hex(head)}");
    }

    static ModelFileKind DetectFolder(string path)
    {
        if (HfModelFolder.LooksLikeModelFolder(path))
            return ModelFileKind.HuggingFaceFolder;
        var ggufs = Directory.GetFiles(path, "*.gguf").Select(f => System.IO.Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        string hint = ggufs.Count > 0 ? $"; to load a GGUF, pass the file itself ({string.Join(", ", ggufs.Take(3))})" : "";
        throw new ModelFormatException($"{path}: a folder without config.json is not a Hugging Face model folder{hint}");
    }

    static string Hex(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 0 ? "nothing" : string.Join(" ", bytes[..Math.Min(bytes.Length, 8)].ToArray().Select(b => b.ToString("x2")));
}
