namespace SecureMigration.Sanitization;

/// <summary>Whether a pass of zeros on a block device is handed to the device (<c>BLKZEROOUT</c>: its WRITE ZEROES or WRITE
/// SAME).</summary>
public enum ZeroOffload
{
    /// <summary>Offload where the device advertises WRITE ZEROES and the extents are whole logical blocks, except on a loop device
    /// (whose zeroing is a fallocate of its backing file, which writes nothing); write the zeros otherwise.</summary>
    Auto,

    /// <summary>Always write the zeros.</summary>
    Never,

    /// <summary>Offload, and refuse the wipe before writing anything where the device cannot.</summary>
    Require,
}
