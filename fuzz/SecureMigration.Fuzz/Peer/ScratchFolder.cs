namespace SecureMigration.Fuzz.Peer;

/// <summary>A folder of this process's own in memory (/dev/shm when there is one), for the targets that read files.</summary>
internal static class ScratchFolder
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string folder = Path.Combine(root, $"secmig-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        return folder;
    });

    /// <summary>A path in the folder, emptied for this input.</summary>
    public static string Fresh(string name)
    {
        string path = Path.Combine(Folder.Value, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }

        return path;
    }
}
