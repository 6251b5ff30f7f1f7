using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Where a wipe keeps its checkpoint. A file's is beside it (<c>TARGET.secmig-wipe</c>, on the same file system, so it
/// survives what the file survives). A block device's goes in a state directory
/// (<see cref="SanitizerOptions.CheckpointDirectory"/>, by default <see cref="DefaultDirectory"/>), never beside the device
/// node: <c>/dev</c> is a devtmpfs in memory, so a checkpoint there was lost with a reboot. It is named after the device
/// number (<c>block-MAJOR-MINOR.secmig-wipe</c>), which two devices attached at once never share; a device attached later
/// under the same number finds a checkpoint bound to another identity, which does not verify. The directory is created
/// owner-only, and refused when it is or passes through a symbolic link, belongs to another user, or others may write it.
/// </summary>
internal static class WipeCheckpointLocation
{
    /// <summary>The checkpoint file's suffix.</summary>
    public const string Suffix = ".secmig-wipe";

    /// <summary>Gets the state directory of device checkpoints when none is given: <c>/var/lib/secmig/wipe</c> for root,
    /// <c>~/.local/share/secmig/wipe</c> for anyone else.</summary>
    public static string DefaultDirectory => Posix.IsSupported && Posix.EffectiveUserId() == 0
        ? "/var/lib/secmig/wipe"
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "secmig", "wipe");

    /// <summary>The checkpoint of <paramref name="target"/>: beside a file; for a device (<paramref name="deviceNumber"/> given), in
    /// <paramref name="directory"/> (or <see cref="DefaultDirectory"/>), which is checked and created when <paramref name="keep"/>
    /// (a wipe that keeps no checkpoints neither reads nor writes there).</summary>
    /// <exception cref="SymbolicLinkRefusedException">The directory is or passes through a symbolic link.</exception>
    /// <exception cref="ArgumentException">The directory belongs to another user or others may write it.</exception>
    public static string For(string target, string? deviceNumber, string? directory, bool keep)
    {
        if (deviceNumber is null)
        {
            return target + Suffix;
        }

        string full = Path.GetFullPath(directory ?? DefaultDirectory);
        if (keep)
        {
            Check(full);
        }

        return Path.Combine(full, $"block-{deviceNumber.Replace(':', '-')}{Suffix}");
    }

    private static void Check(string directory)
    {
        if (NoFollowFile.FirstSymbolicLink(directory) is { } link)
        {
            throw new SymbolicLinkRefusedException(directory, link);
        }

        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        // Looked at again once it exists: a link planted meanwhile is refused, and so is a directory others could plant files in.
        if (NoFollowFile.FirstSymbolicLink(directory) is { } planted)
        {
            throw new SymbolicLinkRefusedException(directory, planted);
        }

        if (Posix.Stat(directory) is { } status)
        {
            uint user = Posix.EffectiveUserId();
            if (status.Owner != user && status.Owner != 0)
            {
                throw new ArgumentException($"The checkpoint directory '{directory}' (SanitizerOptions.CheckpointDirectory, " +
                    $"--checkpoint-dir) belongs to user {status.Owner}, not to this user ({user}) or root; give a directory of your own.");
            }

            if ((status.Permissions & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new ArgumentException($"The checkpoint directory '{directory}' (SanitizerOptions.CheckpointDirectory, " +
                    "--checkpoint-dir) is writable by its group or by others, who could replace or remove a checkpoint there; " +
                    "chmod go-w it or give another directory.");
            }
        }
    }
}
