namespace SecureMigration.Sanitization;

/// <summary>
/// Which passes of a wipe the device zeroes itself (<c>BLKZEROOUT</c>), as <see cref="SanitizerOptions.ZeroOffload"/> asks and the
/// device allows, and how the report and the certificate say so.
/// </summary>
internal static class ZeroOffloads
{
    /// <summary>One flag per pass: whether the device zeroes it.</summary>
    /// <exception cref="ZeroOffloadUnavailableException"><see cref="ZeroOffload.Require"/> and a pass of zeros that cannot be
    /// offloaded.</exception>
    public static bool[] Plan(string target, ZeroOffload mode, BlockDeviceProperties? device, IReadOnlyList<Extent> extents,
        IReadOnlyList<SanitizationPass> passes)
    {
        bool[] plan = [.. passes.Select(IsZeros)];
        string? obstacle = mode == ZeroOffload.Never ? "not asked" : Obstacle(device, extents);
        if (obstacle is not null && mode == ZeroOffload.Require && plan.Any(zero => zero))
        {
            throw new ZeroOffloadUnavailableException(target, obstacle);
        }

        // A loop device zeroes by fallocate on its backing file, which writes nothing: only a wipe that requires it gets that.
        bool writesNothing = mode == ZeroOffload.Auto && device?.Transport == "loop";
        return obstacle is null && !writesNothing ? plan : new bool[passes.Count];
    }

    /// <summary>How a pass was done, for the report.</summary>
    public static string PathOf(bool offloaded, BlockDeviceProperties? device, bool directIo) => offloaded
        ? $"offloaded to the device: BLKZEROOUT, WRITE ZEROES of up to {device!.WriteZeroesMaxBytes} bytes a command"
        : directIo ? "written with O_DIRECT" : "written through the page cache";

    /// <summary>What an offloaded pass of zeros does not promise.</summary>
    public static IEnumerable<string> Caveats(BlockDeviceProperties? device, bool[] offloaded)
    {
        if (device is null || !offloaded.Any(o => o))
        {
            yield break;
        }

        yield return "The device, not this tool, wrote the offloaded zeros (BLKZEROOUT): it may zero blocks by unmapping them or " +
            "marking them unwritten rather than overwriting the medium, so reads return zeros while the old data can remain under " +
            "them. The read-back checks what the device returns. For an overwrite of the medium, use ZeroOffload.Never.";
        if (device.Transport == "loop")
        {
            yield return $"This loop device zeroes by fallocate on its backing file '{device.BackingFile}': the file system there " +
                "usually marks the range unwritten or frees it, leaving the old blocks on its disk.";
        }
    }

    private static bool IsZeros(SanitizationPass pass) => pass.Pattern is { } pattern && pattern.All(b => b == 0);

    /// <summary>Why the device cannot zero these extents itself, or <see langword="null"/> when it can.</summary>
    private static string? Obstacle(BlockDeviceProperties? device, IReadOnlyList<Extent> extents)
    {
        if (device is null)
        {
            return "it is a file, and only a block device zeroes on BLKZEROOUT";
        }

        if (!device.OffloadsZeroes)
        {
            return $"the device {device.Name} does not advertise WRITE ZEROES (write_zeroes_max_bytes is 0), and BLKZEROOUT would " +
                "only be the kernel writing zero pages";
        }

        int block = Math.Max(device.LogicalBlockSize, 512);
        return extents.All(e => e.Offset % block == 0 && e.Length % block == 0)
            ? null
            : $"an extent is not made of whole {block}-byte logical blocks, which is all BLKZEROOUT takes";
    }
}
