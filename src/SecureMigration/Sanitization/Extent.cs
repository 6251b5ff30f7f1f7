namespace SecureMigration.Sanitization;

/// <summary>A byte range of a target: the blocks of an image that must be overwritten.</summary>
/// <param name="Offset">The first byte.</param>
/// <param name="Length">The number of bytes.</param>
public readonly record struct Extent(long Offset, long Length)
{
    /// <summary>Gets the offset just past the range.</summary>
    public long End => Offset + Length;
}
