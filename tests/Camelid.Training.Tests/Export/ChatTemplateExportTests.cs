using Camelid.Model;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Camelid.Tokenization.ChatTemplates;
using Camelid.Training.Export;
using static Camelid.Training.Tests.Export.ExportTestModels;

namespace Camelid.Training.Tests.Export;

/// <summary>The chat template a model was fine-tuned on travels with the exported model and is recognised on load.</summary>
public sealed class ChatTemplateExportTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> BuiltInNames() => [.. ChatTemplates.Names];

    [Theory]
    [MemberData(nameof(BuiltInNames))]
    public void Each_built_in_source_is_recognised_as_its_template(string name)
    {
        var choice = ChatTemplates.Detect(ChatTemplateSources.For(name), modelName: "no-hint");
        Assert.False(choice.IsFallback, choice.Reason);
        Assert.Equal(name, choice.Template.Name);
    }

    [Fact]
    public void Aliases_give_the_source_of_the_template_they_name()
    {
        Assert.Equal(ChatTemplateSources.For("vicuna"), ChatTemplateSources.For("vicuna_v1.1"));
        Assert.Equal(ChatTemplateSources.For("llama-2"), ChatTemplateSources.For("Llama2-Chat"));
        Assert.Throws<ArgumentException>(() => ChatTemplateSources.For("no-such-format"));
    }

    [Theory]
    [InlineData("gguf")]
    [InlineData("hf")]
    public void The_exported_model_carries_the_template_and_chat_picks_it(string format)
    {
        var p = Random(SmallConfig, tiedOutput: false);
        var tokenizer = SyntheticTokenizer(SmallConfig.VocabSize);
        var meta = new ExportMetadata { Name = "no-hint", ChatTemplate = ChatTemplateSources.For("chatml") };
        string path = Path.Combine(_dir, format == "gguf" ? "chat.gguf" : "chat-hf");
        if (format == "gguf")
            ModelExporter.WriteGguf(p, tokenizer, path, GgmlType.F16, meta);
        else
            ModelExporter.WriteHuggingFace(p, tokenizer, path, GgmlType.BF16, meta);

        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1 });
        Assert.Equal(meta.ChatTemplate, model.ChatTemplateSource);
        Assert.Equal("chatml", ChatTemplates.Detect(model.ChatTemplateSource, model.Name).Template.Name);
    }
}
