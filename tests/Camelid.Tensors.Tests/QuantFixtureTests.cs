using System.Runtime.InteropServices;
using System.Text.Json;
using Camelid.Tensors.Quant;
using Camelid.Tests;
using Xunit.Abstractions;

namespace Camelid.Tensors.Tests;

/// <summary>Bit-compatibility with ggml: tests/fixtures/quant holds a fixed random input and the bytes that
/// tools/make_quant_fixtures.py (a float32-exact numpy port of ggml's quantize_row_*_ref) produces for it.</summary>
public class QuantFixtureTests(ITestOutputHelper output)
{
    static readonly string Dir = TestPaths.Fixture("quant");

    public static TheoryData<string> Types() => new() { "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "Q8_K" };

    [Theory]
    [MemberData(nameof(Types))]
    public void QuantizeRow_MatchesGgmlReferenceBytes(string typeName)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "manifest.json")));
        int rows = manifest.RootElement.GetProperty("rows").GetInt32();
        int cols = manifest.RootElement.GetProperty("cols").GetInt32();
        var input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Dir, "input_f32.bin"))).ToArray();
        var expected = File.ReadAllBytes(Path.Combine(Dir, manifest.RootElement.GetProperty("types").GetProperty(typeName).GetString()!));
        Assert.True(GgmlTypes.TryParse(typeName, out var type));
        int rowBytes = (int)GgmlTypes.RowBytes(type, cols);
        Assert.Equal(rows * rowBytes, expected.Length);

        var actual = new byte[rowBytes];
        int mismatchedBytes = 0;
        for (int r = 0; r < rows; r++)
        {
            Quantizer.QuantizeRow(type, input.AsSpan(r * cols, cols), actual);
            var want = expected.AsSpan(r * rowBytes, rowBytes);
            for (int i = 0; i < rowBytes; i++)
            {
                if (actual[i] != want[i])
                {
                    if (mismatchedBytes == 0)
                        output.WriteLine($"{type}: first difference in row {r}, byte {i} (block {i / GgmlTypes.BlockBytes(type)}, offset {i % GgmlTypes.BlockBytes(type)}): got {actual[i]:x2}, expected {want[i]:x2}");
                    mismatchedBytes++;
                }
            }
        }
        output.WriteLine($"{type}: {rows} rows x {cols}, {expected.Length} bytes compared, {mismatchedBytes} differ");
        Assert.Equal(0, mismatchedBytes);
    }
}
