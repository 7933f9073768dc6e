namespace Camelid.Tokenization;

/// <summary>A tokenizer file or vocabulary that cannot be used; the message says what is wrong and where.</summary>
public sealed class TokenizerException(string message) : Exception(message);
