using Camelid.Model.Conversion;
using Camelid.Tests;

namespace Camelid.Model.Tests.Conversion;

/// <summary>Small shapes for conversion tests, and a temporary folder each test class cleans up.</summary>
public sealed class ConversionTestModels : IDisposable
{
    /// <summary>Rows of 256 (so K-quants apply without fallback), 8 layers (so use_more_bits picks layers 0, 3, 6, 7),
    /// grouped-query attention, untied output; about 3 M weights.</summary>
    public static readonly ModelShape KQuantFriendly = ModelShapes.FromJson("""
        {"hidden_size": 256, "intermediate_size": 256, "num_hidden_layers": 8, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 320, "max_position_embeddings": 128, "rms_norm_eps": 1e-5}
        """, "kquant-tiny.json");

    public static ModelShape Stories260K => ModelShapes.Named["stories260k"];

    public string Directory { get; } = TestPaths.NewTempDir("conversion");

    public string PathFor(string name) => System.IO.Path.Combine(Directory, name);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
