// Nothing is left half-written under the real name: a file is written as "PATH.partial" and renamed when complete;
// a folder is built as "DIR.partial" (a stale one left by an interrupted run is removed first) and renamed.
// An existing DIR is replaced only when it holds nothing but files the caller recognises as its own kind (an
// earlier output), so a mistyped path never deletes unrelated data; the earlier output is moved aside, then
// deleted once the new one is in place. Shared by the training exporter, convert and delta.
namespace Camelid.Model.Conversion;

public static class AtomicOutput
{
    /// <summary>Writes a file through <paramref name="write"/>, which gets the ".partial" path to fill.</summary>
    public static void WriteFile(string path, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"{full} is a folder; give the file's path");
        RequireParentFolder(full);
        string partial = full + ".partial";
        try
        {
            write(partial);
            File.Move(partial, full, overwrite: true);
        }
        catch
        {
            TryDeleteFile(partial);
            throw;
        }
    }

    /// <summary>Builds a folder through <paramref name="fill"/>, which gets the empty ".partial" folder to fill.</summary>
    /// <param name="isOwnFile">Names of the files an earlier output of this kind holds; a folder with anything else is not replaced.</param>
    public static void WriteFolder(string directory, Action<string> fill, Func<string, bool> isOwnFile)
    {
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (File.Exists(full))
            throw new IOException($"{full} is a file; give the folder to write into");
        RequireParentFolder(full);
        CheckReplaceable(full, isOwnFile);
        string partial = full + ".partial";
        if (Directory.Exists(partial))
            Directory.Delete(partial, recursive: true); // left by an interrupted run
        Directory.CreateDirectory(partial);
        try
        {
            fill(partial);
            ReplaceFolder(partial, full);
        }
        catch
        {
            TryDeleteFolder(partial);
            throw;
        }
    }

    public static void RequireParentFolder(string full)
    {
        if (Path.GetDirectoryName(full) is { } folder && !Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{folder}: the output folder does not exist");
    }

    static void CheckReplaceable(string directory, Func<string, bool> isOwnFile)
    {
        if (!Directory.Exists(directory))
            return;
        var foreign = Directory.EnumerateFileSystemEntries(directory)
            .Where(e => Directory.Exists(e) || !isOwnFile(Path.GetFileName(e)))
            .Select(Path.GetFileName).Take(3).ToList();
        if (foreign.Count > 0)
            throw new IOException($"{directory} exists and holds files that are not part of a model folder ({string.Join(", ", foreign)}); not replacing it. Choose a new folder.");
    }

    static void ReplaceFolder(string finished, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(finished, target);
            return;
        }
        string previous = $"{target}.previous-{Guid.NewGuid():N}";
        Directory.Move(target, previous);
        try
        {
            Directory.Move(finished, target);
        }
        catch
        {
            Directory.Move(previous, target);
            throw;
        }
        TryDeleteFolder(previous);
    }

    public static void TryDeleteFile(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static void TryDeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
