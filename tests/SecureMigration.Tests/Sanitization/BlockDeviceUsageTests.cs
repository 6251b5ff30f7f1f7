using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

/// <summary>
/// Issue 20, inside attacker item 3: a device with a volume stacked on it (or on one of its partitions) is refused, and named,
/// even when nothing is mounted (the kernel's O_EXCL refuses it too, without saying what holds it). This machine's kernel has
/// no device-mapper, so the sysfs tree is built here as the kernel lays it out.
/// </summary>
public sealed class BlockDeviceUsageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AVolumeStackedOnAPartition_IsNamed_EvenUnmounted()
    {
        string disk = Device("devices/sda", "8:0");
        string partition = Device("devices/sda/sda2", "8:2");
        File.WriteAllText(Path.Combine(partition, "partition"), "2\n");
        string volume = Device("devices/dm-0", "253:0");
        Directory.CreateDirectory(Path.Combine(partition, "holders"));
        Directory.CreateSymbolicLink(Path.Combine(partition, "holders", "dm-0"), volume);

        string? use = BlockDeviceUsage.InUse(disk, []);

        Assert.NotNull(use);
        Assert.StartsWith("/dev/dm-0 is stacked on /dev/sda2: a volume", use, StringComparison.Ordinal);
        Assert.Contains("remove it first", use, StringComparison.Ordinal);
    }

    [Fact]
    public void AMountedVolumeOnTheDevice_IsNamedWithItsMountPoint()
    {
        string disk = Device("devices/sdb", "8:16");
        string volume = Device("devices/dm-1", "253:1");
        Directory.CreateDirectory(Path.Combine(disk, "holders"));
        Directory.CreateSymbolicLink(Path.Combine(disk, "holders", "dm-1"), volume);

        string? use = BlockDeviceUsage.InUse(disk, ["36 25 253:1 / /srv rw,relatime shared:1 - ext4 /dev/mapper/vg-srv rw"]);

        Assert.Equal("/dev/dm-1 (stacked on /dev/sdb) is mounted at /srv; unmount it first", use);
    }

    [Fact]
    public void MountPointWithEscapedCharacters_IsNamedAsTheKernelMeansIt()
    {
        // The kernel writes a space, tab, newline and backslash of a mount point as octal escapes.
        string disk = Device("devices/sdd", "8:48");

        string? use = BlockDeviceUsage.InUse(disk, [@"36 25 8:48 / /srv/vm\040images\134old\011x rw - ext4 /dev/sdd rw"]);

        Assert.NotNull(use);
        Assert.StartsWith("/dev/sdd (the device itself) is mounted at /srv/vm images", use, StringComparison.Ordinal);
        Assert.DoesNotContain(@"\040", use, StringComparison.Ordinal);
        Assert.DoesNotContain(@"\134", use, StringComparison.Ordinal);
    }

    [Fact]
    public void AFreeDevice_IsFree()
    {
        string disk = Device("devices/sdc", "8:32");
        string partition = Device("devices/sdc/sdc1", "8:33");
        File.WriteAllText(Path.Combine(partition, "partition"), "1\n");
        Directory.CreateDirectory(Path.Combine(disk, "holders"));

        Assert.Null(BlockDeviceUsage.InUse(disk, ["36 25 8:1 / / rw - ext4 /dev/sda1 rw"]));
    }

    private string Device(string relative, string number)
    {
        string directory = Directory.CreateDirectory(Path.Combine(_dir.Path, relative)).FullName;
        File.WriteAllText(Path.Combine(directory, "dev"), number + "\n");
        return directory;
    }
}
