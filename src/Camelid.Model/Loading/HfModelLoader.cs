using System.Text.Json;
using Camelid.Formats;
using Camelid.Formats.HuggingFace;
using Camelid.Tensors.Quant;
using Camelid.Tokenization;

namespace Camelid.Model.Loading;

static class HfModelLoader
{
    public static LoadedModel Load(string directory)
    {
        var folder = HfModelFolder.Open(directory);
        try
        {
            string source = System.IO.Path.Combine(directory, "config.json");
            var config = LlamaConfig.FromHfConfig(folder.Config, source);
            var weights = ModelLoader.BuildWeights(config, TensorNames.HuggingFace, folder.Find, directory,
                adaptQuery: UnpermuteRotaryRows, adaptKey: UnpermuteRotaryRows);
            Tokenizer? tokenizer = folder.TokenizerJsonPath != null
                ? Tokenizer.Create(TokenizerLoader.FromHfTokenizerJson(folder.TokenizerJsonPath, folder.TokenizerConfigPath))
                : folder.TokenizerModelPath != null ? Tokenizer.Create(TokenizerLoader.FromSentencePieceModel(folder.TokenizerModelPath)) : null;
            ModelLoader.CheckVocabulary(tokenizer, config, directory);
            return new LoadedModel(directory, "Hugging Face safetensors", folder, config, weights, folder.Tensors, tokenizer,
                ChatTemplateOf(folder.TokenizerConfig), new DirectoryInfo(directory).Name);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// HF checkpoints store each head's Q/K rows permuted so that rotate-half RoPE (first half of a head
    /// against its second half) equals Meta's rotation of adjacent pairs (convert_llama_weights_to_hf.py's
    /// permute). Undo it, so one RoPE kernel serves every format: Meta row 2i+r of a head is HF row r·hs/2+i.
    /// </summary>
    static TensorEntry UnpermuteRotaryRows(TensorEntry hf, int heads)
    {
        int rows = (int)hf.Rows, headSize = rows / heads;
        int rowBytes = (int)GgmlTypes.RowBytes(hf.Type, hf.Cols);
        var bytes = new byte[hf.ByteCount];
        var src = hf.Bytes;
        for (int meta = 0; meta < rows; meta++)
        {
            int stored = (int)RotaryRowOrder.HfRowOf(meta, headSize);
            src.Slice(stored * rowBytes, rowBytes).CopyTo(bytes.AsSpan(meta * rowBytes, rowBytes));
        }
        return TensorEntry.FromBytes(hf.Name, hf.Type, hf.Shape, bytes);
    }

    /// <summary>tokenizer_config.json's chat_template: a string, or a list of named templates ("default" wins).</summary>
    internal static string? ChatTemplateOf(JsonElement? tokenizerConfig)
    {
        if (tokenizerConfig is not { ValueKind: JsonValueKind.Object } c || !c.TryGetProperty("chat_template", out var t))
            return null;
        if (t.ValueKind == JsonValueKind.String)
            return t.GetString();
        if (t.ValueKind == JsonValueKind.Array)
        {
            string? first = null;
            foreach (var item in t.EnumerateArray())
            {
                string? name = item.TryGetProperty("name", out var n) ? n.GetString() : null;
                string? template = item.TryGetProperty("template", out var tt) ? tt.GetString() : null;
                first ??= template;
                if (name == "default")
                    return template;
            }
            return first;
        }
        return null;
    }
}
