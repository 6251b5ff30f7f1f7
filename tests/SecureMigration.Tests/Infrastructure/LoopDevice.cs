using System.Diagnostics;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A real block device: a file attached to a loop device with losetup(8) (root only).</summary>
public sealed class LoopDevice : IDisposable
{
    private LoopDevice(string path) => Path = path;

    public string Path { get; }

    public static bool CanAttach { get; } = Probe();

    public static LoopDevice Attach(string file) => new(Run("--find", "--show", file).Trim());

    /// <summary>Attaches a file that holds a partition table, with a device node per partition (PATHpN).</summary>
    public static LoopDevice AttachPartitioned(string file)
    {
        var device = new LoopDevice(Run("--partscan", "--find", "--show", file).Trim());
        if (!File.Exists(device.Path + "p1"))
        {
            // The kernel's own scan may not have created the nodes yet: add them now (partx is util-linux, like losetup).
            using Process partx = Process.Start(new ProcessStartInfo("partx", ["--add", device.Path]) { RedirectStandardError = true })!;
            partx.StandardError.ReadToEnd();
            partx.WaitForExit();
        }

        return device;
    }

    public void Dispose() => Run("--detach", Path);

    /// <summary>Attaches and detaches a small file once: containers often have /dev/loop-control but no loop devices to hand out.</summary>
    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || !File.Exists("/dev/loop-control") ||
            ExternalProgram.Find("losetup") is null)
        {
            return false;
        }

        string file = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, new byte[1024 * 1024]);
            using LoopDevice probe = Attach(file);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Run(params string[] arguments)
    {
        using Process process = Process.Start(new ProcessStartInfo("losetup", arguments) { RedirectStandardOutput = true,
            RedirectStandardError = true })!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"losetup {string.Join(' ', arguments)} failed: " +
            $"{errors}");
    }
}

/// <summary>A fact that needs a loop device (root, /dev/loop-control, losetup): skipped with the reason where there is none.</summary>
public sealed class RequiresLoopDeviceFactAttribute : FactAttribute
{
    private bool _mountable;
    private bool _partitioned;

    public RequiresLoopDeviceFactAttribute()
    {
        if (!LoopDevice.CanAttach)
        {
            Skip = "no loop device can be attached here (it needs root, /dev/loop-control and losetup); the block-device test runs where " +
                "one can.";
        }
    }

    /// <summary>Gets or sets whether the test also writes a partition table (sfdisk), besides formatting and mounting.</summary>
    public bool Partitioned
    {
        get => _partitioned;
        set
        {
            _partitioned = value;
            Mountable = true;
            if (value && Skip is null && ExternalProgram.Find("sfdisk") is null && !File.Exists("/usr/sbin/sfdisk"))
            {
                Skip = "no partition table can be written here (it needs sfdisk, package fdisk).";
            }
        }
    }

    /// <summary>Gets or sets whether the test also formats and mounts the device (mkfs.ext4 and mount(8)).</summary>
    public bool Mountable
    {
        get => _mountable;
        set
        {
            _mountable = value;
            if (value && Skip is null && (ExternalProgram.Find("mkfs.ext4") is null && !File.Exists("/usr/sbin/mkfs.ext4") ||
                !TinyFileSystem.CanMount))
            {
                Skip = "the loop device cannot be formatted and mounted here (it needs mkfs.ext4 and mount(8) as root).";
            }
        }
    }
}
