using System.Diagnostics;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A real block device: a file attached to a loop device with losetup(8) (root only).</summary>
public sealed class LoopDevice : IDisposable
{
    private LoopDevice(string path) => Path = path;

    public string Path { get; }

    public static bool CanAttach { get; } = OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess && File.Exists("/dev/loop-control") && ExternalProgram.Find("losetup") is not null;

    public static LoopDevice Attach(string file) => new(Run("--find", "--show", file).Trim());

    public void Dispose() => Run("--detach", Path);

    private static string Run(params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo("losetup", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"losetup {string.Join(' ', arguments)} failed: {errors}");
    }
}

/// <summary>A fact that needs a loop device (root, /dev/loop-control, losetup): skipped with the reason where there is none.</summary>
public sealed class RequiresLoopDeviceFactAttribute : FactAttribute
{
    public RequiresLoopDeviceFactAttribute()
    {
        if (!LoopDevice.CanAttach)
        {
            Skip = "no loop device can be attached here (it needs root, /dev/loop-control and losetup); the block-device test runs where one can.";
        }
    }
}
