namespace Camelid.Training.Model;

/// <summary>
/// One trainable tensor in f32, row-major (Rows, Cols); a vector has one row. Named as in GGUF
/// (<c>blk.0.attn_q.weight</c>), Q/K rows in Meta's interleaved-pair order like the inference engine.
/// </summary>
public sealed class Parameter
{
    public Parameter(string name, int rows, int cols, float[]? value = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        long count = (long)rows * cols;
        if (count > Array.MaxLength)
            throw new ArgumentException($"{name}: {rows}×{cols} elements do not fit one array");
        if (value != null && value.Length != count)
            throw new ArgumentException($"{name}: {value.Length} values for shape ({rows}, {cols})");
        Name = name;
        Rows = rows;
        Cols = cols;
        Value = value ?? new float[count];
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int Count => Value.Length;
    public bool IsMatrix => Rows > 1;
    public float[] Value { get; }

    /// <summary>Accumulated dL/dValue; null while the parameter is frozen.</summary>
    public float[]? Gradient { get; private set; }

    /// <summary>Frozen parameters get no gradient and are never changed by the optimizer.</summary>
    public bool Trainable
    {
        get => Gradient != null;
        set => Gradient = value ? Gradient ?? new float[Count] : null;
    }

    /// <summary>AdamW's decoupled weight decay applies to matrices only, never to norm gains (as in HF and llm.c).</summary>
    public bool Decays => IsMatrix;

    public override string ToString() => $"{Name} ({Rows}, {Cols})";
}
