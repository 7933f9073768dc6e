namespace Camelid.Training.Export;

/// <summary>What an exported model records about itself besides weights and tokenizer.</summary>
public sealed record ExportMetadata
{
    /// <summary>GGUF <c>general.name</c> and config.json <c>_name_or_path</c>; by default the output's file or folder name.</summary>
    public string? Name { get; init; }

    /// <summary>GGUF <c>general.description</c>, e.g. how the model was trained.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// The Jinja chat template (GGUF <c>tokenizer.chat_template</c>, tokenizer_config.json <c>chat_template</c>): the base
    /// model's <c>LlamaModel.ChatTemplateSource</c>, or <see cref="ChatTemplateSources.For"/> of the built-in format the
    /// model was fine-tuned on. Null writes none.
    /// </summary>
    public string? ChatTemplate { get; init; }
}

/// <summary>A finished export: the model's path (file or folder), its size and the files it consists of.</summary>
public sealed record ExportResult(string Path, long Bytes, IReadOnlyList<string> Files);
