namespace Camelid.Evaluation.Files;

/// <summary>
/// An evaluation file that is not what it should be (not JSON, a missing field, a duplicate id). An
/// <see cref="IOException"/>, because it is a problem with an input file: the CLI reports it in one line.
/// </summary>
public sealed class EvaluationFormatException(string message, Exception? inner = null) : IOException(message, inner);
