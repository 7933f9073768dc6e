using System.Text;
using System.Text.Json;
using Camelid.Tests;

namespace Camelid.Cli.Tests;

public class TokenizeAndInfoTests
{
    const string SpmVocab = "tokenizers/llama.cpp/ggml-vocab-llama-spm.gguf";
    const string Gpt2Vocab = "tokenizers/llama.cpp/ggml-vocab-gpt-2.gguf";
    const string Gguf = "models/stories260K.gguf";

    /// <summary>llama.cpp's conformance cases, each written to a file and tokenized through --file (byte-exact).</summary>
    [SharedDataTheory(SpmVocab, Gpt2Vocab)]
    [InlineData(SpmVocab)]
    [InlineData(Gpt2Vocab)]
    public void VocabularyOnlyGguf_File_Json_MatchesLlamaCppConformanceIds(string vocab)
    {
        var texts = File.ReadAllText(TestPaths.Shared(vocab + ".inp"), new UTF8Encoding(false, true)).Split("\n__ggml_vocab_test__\n");
        var lines = File.ReadAllText(TestPaths.Shared(vocab + ".out")).Split('\n');
        string dir = TestPaths.NewTempDir();
        // A spread of cases: whitespace-only, newlines, plain words, and the long multilingual ones at the end.
        foreach (int i in new[] { 0, 3, 6, 9, 12, texts.Length - 3, texts.Length - 2 })
        {
            string file = Path.Combine(dir, $"case{i}.txt");
            File.WriteAllBytes(file, Encoding.UTF8.GetBytes(texts[i]));
            var r = CliRunner.Run("tokenize", "--model", TestPaths.Shared(vocab), "--json", "--no-bos", "--file", file);
            Assert.True(r.ExitCode == 0, r.StandardError);
            int[] expected = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(r.StandardOutput));
        }
        Directory.Delete(dir, true);
    }

    [SharedDataFact(SpmVocab)]
    public void Bos_FollowsTheModelUnlessNoBos_AndEmptyFileIsAllowed()
    {
        string dir = TestPaths.NewTempDir();
        string empty = Path.Combine(dir, "empty.txt");
        File.WriteAllBytes(empty, []);
        var withBos = CliRunner.Run("tokenize", "--model", TestPaths.Shared(SpmVocab), "--json", "Hello world");
        var noBos = CliRunner.Run("tokenize", "--model", TestPaths.Shared(SpmVocab), "--json", "--no-bos", "Hello world");
        var emptyText = CliRunner.Run("tokenize", "--model", TestPaths.Shared(SpmVocab), "--json", "--file", empty);
        Assert.Equal("[1,15043,3186]", withBos.StandardOutput.Trim());
        Assert.Equal("[15043,3186]", noBos.StandardOutput.Trim());
        Assert.Equal("[1]", emptyText.StandardOutput.Trim());
        Directory.Delete(dir, true);
    }

    [SharedDataFact(SpmVocab)]
    public void WithoutJson_ListsIdsAndPieces()
    {
        var r = CliRunner.Run("tokenize", "--model", TestPaths.Shared(SpmVocab), "Hello world");
        Assert.True(r.ExitCode == 0, r.StandardError);
        Assert.Equal(["1 -> '<s>'", "15043 -> '▁Hello'", "3186 -> '▁world'"],
            r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToArray());
    }

    [SharedDataFact(SpmVocab)]
    public void InvalidUtf8File_IsAClearError()
    {
        string dir = TestPaths.NewTempDir();
        string bad = Path.Combine(dir, "bad.txt");
        File.WriteAllBytes(bad, [0x48, 0xff, 0xfe, 0x49]);
        var r = CliRunner.Run("tokenize", "--model", TestPaths.Shared(SpmVocab), "--file", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("UTF-8", r.StandardError);
        Directory.Delete(dir, true);
    }

    [SharedDataFact(SpmVocab)]
    public void Generate_OnAVocabularyOnlyFile_SaysItHasNoWeights()
    {
        var r = CliRunner.Run("generate", "--model", TestPaths.Shared(SpmVocab), "-n", "4");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error:", r.StandardError);
        Assert.DoesNotContain("   at ", r.StandardError);
    }

    [SharedDataFact(Gguf)]
    public void Info_ShowsShapesTokenizerAndTemplate()
    {
        var r = CliRunner.Run("info", TestPaths.Shared(Gguf));
        Assert.True(r.ExitCode == 0, r.StandardError);
        foreach (var expected in new[] { "layers:         5", "embedding:      64", "heads:          8 (kv heads 4", "vocabulary:     512", "parameters:     292,800", "F32 x48", "SentencePiece", "chat template:" })
            Assert.Contains(expected, r.StandardOutput);
    }
}
