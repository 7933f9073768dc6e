namespace Camelid.Data.Formats;

/// <summary>
/// A data file that is not what it should be (not JSON, wrong shape). Derives from <see cref="IOException"/>
/// because it is a problem with an input file: the CLI reports it as one line and exit code 1.
/// </summary>
public sealed class DataFormatException(string message, Exception? inner = null) : IOException(message, inner);
