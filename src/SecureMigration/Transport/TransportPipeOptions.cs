namespace SecureMigration.Transport;

/// <summary>Buffer limits for the pipes of a transport adapter.</summary>
internal sealed class TransportPipeOptions
{
    /// <summary>Gets or sets the size of each buffer the reader asks the stream to fill.</summary>
    /// <value>The default is 256 KiB: fewer, larger socket reads, each holding many TLS records.</value>
    public int ReadBufferSize { get; set; } = 256 * 1024;

    /// <summary>Gets or sets the smallest buffer the writer hands out.</summary>
    /// <value>
    /// The default is 512 KiB: a flush of many TLS records leaves in one socket write. A 256 KiB flush of plaintext
    /// (the migration wire's) is 17 records, a little over 256 KiB sealed: a 256 KiB buffer split it into two writes,
    /// and each write woke the receiver once more.
    /// </value>
    public int MinimumWriteBufferSize { get; set; } = 512 * 1024;

    /// <summary>Gets the defaults.</summary>
    public static TransportPipeOptions Default { get; } = new();
}
