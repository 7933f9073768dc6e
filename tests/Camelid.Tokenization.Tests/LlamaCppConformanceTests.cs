using Camelid.Tests;
using static Camelid.Tokenization.Tests.TestTokenizers;

namespace Camelid.Tokenization.Tests;

/// <summary>llama.cpp's test-tokenizer-0 vectors (ids from the Hugging Face tokenizer of each model, no BOS).</summary>
public class LlamaCppConformanceTests
{
    [SharedDataFact(SpmGguf, SpmGguf + ".inp", SpmGguf + ".out")]
    public void LlamaSpmGguf_AllCasesExact() =>
        AssertEncodes(Get("gguf", SpmGguf), LlamaCppCases(SpmGguf), "ggml-vocab-llama-spm.gguf");

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp", Gpt2Gguf + ".out")]
    public void Gpt2Gguf_AllCasesExact() =>
        AssertEncodes(Get("gguf", Gpt2Gguf), LlamaCppCases(Gpt2Gguf), "ggml-vocab-gpt-2.gguf");

    // The same LLaMA vocabulary from the other two file formats must give the same ids.
    [SharedDataFact(Llama2Model, SpmGguf + ".inp", SpmGguf + ".out")]
    public void LlamaTokenizerModel_AllCasesExact() =>
        AssertEncodes(Get("model", Llama2Model), LlamaCppCases(SpmGguf), "tokenizer.model");

    [SharedDataFact(Llama2Bin, SpmGguf + ".inp", SpmGguf + ".out")]
    public void LlamaTokenizerBin_AllCasesExact() =>
        AssertEncodes(Get("bin", Llama2Bin), LlamaCppCases(SpmGguf), "tokenizer.bin");

    [SharedDataFact(SpmGguf + ".inp", SpmGguf + ".out", Gpt2Gguf + ".inp")]
    public void Vectors_Have46Cases_IncludingEmptyAndWhitespaceOnly()
    {
        var cases = LlamaCppCases(SpmGguf);
        Assert.Equal(46, cases.Count);
        Assert.Equal(46, LlamaCppCases(Gpt2Gguf).Count);
        Assert.Contains(cases, c => c.Text == "" && c.Ids.Length == 0);
        Assert.Contains(cases, c => c.Text == "   ");
        Assert.Contains(cases, c => c.Text == "\n\n\n");
    }

    [SharedDataFact(SpmGguf, SpmGguf + ".inp")]
    public void LlamaSpm_DecodeOfEncode_GivesTheInputBack()
    {
        // LLaMA's tokenizer is lossless for these inputs (identity normalization, byte fallback): sentencepiece's
        // decode removes exactly the dummy prefix that encode added.
        var tokenizer = Get("gguf", SpmGguf);
        foreach (var (text, _) in LlamaCppCases(SpmGguf))
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addBos: true)));
    }

    [SharedDataFact(Gpt2Gguf, Gpt2Gguf + ".inp")]
    public void Gpt2_DecodeOfEncode_GivesTheInputBack()
    {
        var tokenizer = Get("gguf", Gpt2Gguf);
        foreach (var (text, _) in LlamaCppCases(Gpt2Gguf))
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addBos: false)));
    }
}
