namespace Camelid.Cli.Commands.Data;

/// <summary>A one-line counter on stderr while a long data command runs; silent when stderr is not a terminal (CI, pipes).</summary>
static class DataProgress
{
    static bool _shown;

    public static Action<Camelid.Data.Conversations.DataReport>? Reporter(string verb)
    {
        if (Console.IsErrorRedirected)
            return null;
        return report =>
        {
            Console.Error.Write($"\r{verb} {report.Read} records, wrote {report.Written}");
            _shown = true;
        };
    }

    public static void Done()
    {
        if (_shown)
            Console.Error.WriteLine();
    }
}
