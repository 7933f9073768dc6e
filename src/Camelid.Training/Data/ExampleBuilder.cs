namespace Camelid.Training.Data;

/// <summary>
/// Collects one example's tokens and, per token, whether it is a target (the model learns to predict it from the
/// tokens before it), span by span through a <see cref="SpanTokenizer"/>.
/// </summary>
internal sealed class ExampleBuilder(SpanTokenizer spans)
{
    readonly List<int> _tokens = [];
    readonly List<bool> _trained = [];
    bool _afterText;

    public int Count => _tokens.Count;

    public ExampleBuilder Token(int id, bool trained)
    {
        Add([id], trained);
        _afterText = false;
        return this;
    }

    public ExampleBuilder Text(string text, bool trained)
    {
        if (text.Length == 0)
            return this;
        Add(spans.Plain(text, _afterText), trained);
        _afterText = true;
        return this;
    }

    public ExampleBuilder Special(string controlTokenText, bool trained)
    {
        var (ids, isToken) = spans.Special(controlTokenText);
        Add(ids, trained);
        _afterText = !isToken;
        return this;
    }

    public (int[] Tokens, bool[] Trained) Build() => ([.. _tokens], [.. _trained]);

    void Add(int[] ids, bool trained)
    {
        _tokens.AddRange(ids);
        for (int i = 0; i < ids.Length; i++)
            _trained.Add(trained);
    }
}
