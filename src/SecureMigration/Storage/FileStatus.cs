namespace SecureMigration.Storage;

/// <summary>What <c>statx(2)</c> says of a file (<see cref="Posix.Stat"/>).</summary>
/// <param name="Links">Its hard-link count.</param>
/// <param name="AllocatedBytes">The bytes the file system allocated to it.</param>
/// <param name="Mode">Its type and permission bits (<c>stx_mode</c>).</param>
/// <param name="Owner">The uid that owns it.</param>
internal readonly record struct FileStatus(uint Links, long AllocatedBytes, uint Mode, uint Owner)
{
    private const uint TypeMask = 0xF000;

    /// <summary>Gets whether it is a block device.</summary>
    public bool IsBlockDevice => (Mode & TypeMask) == 0x6000;

    /// <summary>Gets whether it is a unix socket.</summary>
    public bool IsSocket => (Mode & TypeMask) == 0xC000;

    /// <summary>Gets its permission bits (with set-uid, set-gid and sticky).</summary>
    public UnixFileMode Permissions => (UnixFileMode)(Mode & 0xFFF);
}
