namespace SecureMigration.Storage;

/// <summary>
/// Which file a path named at one moment: its device and inode. Two opens of the same path that yield different
/// identities reached different files, so a file swapped in between (a rename, a new link) is told apart.
/// </summary>
/// <param name="DeviceMajor">The major number of the device that holds the file.</param>
/// <param name="DeviceMinor">The minor number of that device.</param>
/// <param name="Inode">The file's inode number on that device.</param>
public readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode)
{
    /// <summary>Gets the identity as <c>MAJOR:MINOR/INODE</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{DeviceMajor}:{DeviceMinor}/{Inode}";

    /// <summary>Reads the identity of the file at <paramref name="path"/> without following a final symbolic link (Linux).</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its identity, or <see langword="null"/> when it does not exist, cannot be examined, or this is not Linux.</returns>
    public static FileIdentity? Of(string path) => OperatingSystem.IsLinux() ? Posix.IdentityOf(path) : null;

    /// <summary>Parses the text <see cref="ToString"/> writes.</summary>
    /// <param name="text">The text, <c>MAJOR:MINOR/INODE</c>.</param>
    /// <param name="identity">The identity, when the text is one.</param>
    /// <returns>Whether the text is an identity.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out FileIdentity identity)
    {
        identity = default;
        int colon = text.IndexOf(':');
        int slash = text.IndexOf('/');
        if (colon <= 0 || slash <= colon + 1 ||
            !uint.TryParse(text[..colon], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
                out uint major) ||
            !uint.TryParse(text[(colon + 1)..slash], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out uint minor) ||
            !ulong.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
                out ulong inode))
        {
            return false;
        }

        identity = new FileIdentity(major, minor, inode);
        return true;
    }
}
