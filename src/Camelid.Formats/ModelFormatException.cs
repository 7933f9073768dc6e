namespace Camelid.Formats;

/// <summary>A model or tokenizer file that cannot be used: the message says what is wrong and what to do.</summary>
public class ModelFormatException(string message, Exception? inner = null) : Exception(message, inner);
