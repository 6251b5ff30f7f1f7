using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>Releases a wiped file's or device's blocks once the wipe is verified, where the storage allows.</summary>
internal static class WipeDiscard
{
    /// <summary>
    /// Punches holes over the verified extents (<c>fallocate</c> with <c>FALLOC_FL_PUNCH_HOLE</c>), so the file system
    /// releases the blocks and, where the disk and mount allow, discards them; on a block device, <c>BLKDISCARD</c>.
    /// Says so in the caveats where it cannot.
    /// </summary>
    public static bool Discard(SafeFileHandle handle, IReadOnlyList<Extent> extents, List<string> caveats, bool isDevice)
    {
        if (isDevice)
        {
            foreach (Extent extent in extents)
            {
                if (!Posix.DiscardBlocks((int)handle.DangerousGetHandle(), extent.Offset, extent.Length))
                {
                    caveats.Add("Discard was asked for, but the device refused BLKDISCARD " +
                        $"(errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); its blocks stay mapped.");
                    return false;
                }
            }

            return true;
        }

        if (!Posix.IsSupported)
        {
            caveats.Add("Discard was asked for, but this OS has no hole punching; the blocks stay allocated.");
            return false;
        }

        foreach (Extent extent in extents)
        {
            if (Posix.Fallocate((int)handle.DangerousGetHandle(), Posix.FallocPunchHole, extent.Offset, extent.Length) != 0)
            {
                caveats.Add("Discard was asked for, but this file system refused to punch holes " +
                    $"(errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); the blocks stay allocated.");
                return false;
            }
        }

        return true;
    }
}
