using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>Releases a wiped file's or device's blocks once the wipe is verified, where the storage allows.</summary>
internal static class WipeDiscard
{
    /// <summary>
    /// Punches holes over the verified extents (<c>fallocate</c> with <c>FALLOC_FL_PUNCH_HOLE</c>), so the file system
    /// releases the blocks and, where the disk and mount allow, discards them; on a block device, <c>BLKDISCARD</c>, or
    /// <c>BLKSECDISCARD</c> when <paramref name="secure"/>. Says what a discard does not promise, or why it could not run,
    /// in the caveats.
    /// </summary>
    /// <returns>How the extents were discarded, or <see langword="null"/> when they were not.</returns>
    public static string? Discard(SafeFileHandle handle, IReadOnlyList<Extent> extents, List<string> caveats, bool isDevice, bool secure)
    {
        int descriptor = (int)handle.DangerousGetHandle();
        if (isDevice)
        {
            string request = secure ? "BLKSECDISCARD" : "BLKDISCARD";
            for (int done = 0; done < extents.Count; done++)
            {
                Extent extent = extents[done];
                bool discarded = secure
                    ? Posix.SecureDiscardBlocks(descriptor, extent.Offset, extent.Length)
                    : Posix.DiscardBlocks(descriptor, extent.Offset, extent.Length);
                if (!discarded)
                {
                    int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    caveats.Add($"A discard was asked for, but the device refused {request} (errno {errno}); " +
                        $"{Unreleased(done, extents.Count, "mapped")}. The overwrite before it stands.");
                    return null;
                }
            }

            caveats.Add(secure
                ? "BLKSECDISCARD ran after the overwrite (and its verification, where one ran): the device was asked to erase the " +
                    "blocks and the copies it keeps. Linux sends it only to devices that claim secure erase; that the copies are " +
                    "gone is the device's promise, not checked here."
                : "BLKDISCARD ran after the overwrite (and its verification, where one ran): the device may unmap the blocks, but a " +
                    "discard alone does not make old data unreadable (the device may keep it until it reuses the blocks, and Linux " +
                    "no longer reports whether discarded blocks read as zeros), which is why it follows the overwrite rather than " +
                    "replacing it.");
            return request;
        }

        if (!Posix.IsSupported)
        {
            caveats.Add("Discard was asked for, but this OS has no hole punching; the blocks stay allocated.");
            return null;
        }

        for (int done = 0; done < extents.Count; done++)
        {
            Extent extent = extents[done];
            if (Posix.Fallocate(descriptor, Posix.FallocPunchHole, extent.Offset, extent.Length) != 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                caveats.Add($"Discard was asked for, but this file system refused to punch holes (errno {errno}); " +
                    $"{Unreleased(done, extents.Count, "allocated")}.");
                return null;
            }
        }

        return "hole punch";
    }

    /// <summary>Says which extents a discard that stopped after <paramref name="done"/> of <paramref name="total"/> left
    /// <paramref name="state"/>.</summary>
    private static string Unreleased(int done, int total, string state) => done == 0
        ? $"the blocks stay {state}"
        : $"the first {done} of {total} extents were released before it; the rest stay {state}";
}
