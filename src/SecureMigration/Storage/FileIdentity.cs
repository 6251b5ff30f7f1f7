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
}
