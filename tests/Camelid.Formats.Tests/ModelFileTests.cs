using Camelid.Formats.Safetensors;
using Camelid.Tensors.Quant;
using Camelid.Tests;

namespace Camelid.Formats.Tests;

public class ModelFileTests
{
    [SharedDataTheory("models/stories260K.gguf", "models/stories260K.bin", "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf")]
    [InlineData("models/stories260K.gguf", ModelFileKind.Gguf)]
    [InlineData("models/llama-2-tiny-random.gguf", ModelFileKind.Gguf)]
    [InlineData("tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf", ModelFileKind.Gguf)]
    [InlineData("models/stories260K.bin", ModelFileKind.Llama2c)]
    public void Real_files_are_recognised_by_content(string relative, ModelFileKind kind) =>
        Assert.Equal(kind, ModelFile.Detect(TestPaths.Shared(relative)));

    [SharedDataFact("models/tok512.bin", "models/tok512.model", "models/stories260K.expected_t0_n200.txt")]
    public void Tokenizer_and_text_files_are_not_models()
    {
        foreach (var relative in new[] { "models/tok512.bin", "models/tok512.model", "models/stories260K.expected_t0_n200.txt" })
            Assert.Contains("not a model file", Assert.Throws<ModelFormatException>(() => ModelFile.Detect(TestPaths.Shared(relative))).Message);
    }

    [Fact]
    public void Hand_built_files_and_folders_are_recognised_or_explained()
    {
        using var dir = new TempDir(nameof(Hand_built_files_and_folders_are_recognised_or_explained));
        string st = dir.Combine("w.safetensors");
        SafetensorsWriter.Write(st, [("x", GgmlType.F32, [1], new byte[4])]);
        Assert.Equal(ModelFileKind.Safetensors, ModelFile.Detect(st));
        File.Move(st, dir.Combine("no-extension"));
        Assert.Equal(ModelFileKind.Safetensors, ModelFile.Detect(dir.Combine("no-extension")));

        var v1 = new Bytes().U32(0x616b3432).I32(1).Zeros(248).ToArray();
        Assert.Equal(ModelFileKind.Llama2c, ModelFile.Detect(dir.File("v1.bin", v1)));
        var legacy = new Bytes().I32(8).I32(12).I32(2).I32(4).I32(2).I32(10).I32(6).ToArray();
        Assert.Equal(ModelFileKind.Llama2c, ModelFile.Detect(dir.File("legacy.bin", legacy))); // truncated, but Open explains that

        string hf = Path.Combine(dir.Path, "hf");
        Directory.CreateDirectory(hf);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Detect(hf));
        Assert.Contains("without config.json", e.Message);
        File.WriteAllText(Path.Combine(hf, "model.gguf"), "GGUF");
        Assert.Contains("pass the file itself (model.gguf)", Assert.Throws<ModelFormatException>(() => ModelFile.Detect(hf)).Message);
        File.WriteAllText(Path.Combine(hf, "config.json"), "{}");
        Assert.Equal(ModelFileKind.HuggingFaceFolder, ModelFile.Detect(hf));

        (string Name, byte[] Bytes, string Expected)[] bad =
        [
            ("consolidated.00.pth", [(byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0], "looks like a PyTorch checkpoint (a zip archive"),
            ("pytorch_model.bin", [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc], "looks like a PyTorch checkpoint (a Python pickle)"),
            ("old.bin", new Bytes().U32(0x67676a74).U32(3).Zeros(40).ToArray(), "before GGUF"),
            ("empty.bin", [], "empty"),
            ("short.bin", [1, 2, 3], "not a model file"),
            ("notes.txt", "hello, this is plain text, not weights"u8.ToArray(), "not a model file"),
            ("safetensors-ish", new Bytes().U64(1000).Raw("{}").ToArray(), "not a model file"),
        ];
        foreach (var (name, bytes, expected) in bad)
        {
            string path = dir.File(name, bytes);
            var error = Assert.Throws<ModelFormatException>(() => ModelFile.Detect(path));
            Assert.Contains(expected, error.Message);
            Assert.Contains(path, error.Message);
        }
        Assert.Contains("no such file or folder", Assert.Throws<ModelFormatException>(() => ModelFile.Detect(dir.Combine("missing.gguf"))).Message);
    }
}
