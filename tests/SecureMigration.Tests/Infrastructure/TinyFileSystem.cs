using System.Diagnostics;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A real, tiny tmpfs (mounted with mount(8), so root only) where a disk really fills up.</summary>
public sealed class TinyFileSystem : IDisposable
{
    private TinyFileSystem(string path) => Path = path;

    public string Path { get; }

    public static bool CanMount { get; } = Probe();

    public static TinyFileSystem Mount(int kilobytes)
    {
        string path = Directory.CreateTempSubdirectory("secmig-tmpfs-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", path);
        return new TinyFileSystem(path);
    }

    /// <summary>Writes a filler file until the file system is full.</summary>
    public void Fill()
    {
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        byte[] block = new byte[4096];
        try
        {
            while (true)
            {
                filler.Write(block);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // Full.
        }
    }

    public void FreeSpace() => File.Delete(System.IO.Path.Combine(Path, "filler"));

    public void Dispose()
    {
        Run("umount", "-l", Path);
        Directory.Delete(Path);
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            return false;
        }

        try
        {
            using TinyFileSystem probe = Mount(64);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true,
            RedirectStandardOutput = true })!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {errors}");
        }
    }
}

/// <summary>A fact that needs to mount a tmpfs (root, CAP_SYS_ADMIN): skipped with the reason where that is not allowed.</summary>
public sealed class RequiresTmpfsFactAttribute : FactAttribute
{
    public RequiresTmpfsFactAttribute()
    {
        if (!TinyFileSystem.CanMount)
        {
            Skip = "mounting a tmpfs is not allowed here (it needs root and CAP_SYS_ADMIN); the disk-full test runs where it is.";
        }
    }
}
