namespace SecureMigration.Transport;

/// <summary>Thread-safe counters of the bytes a transport has sent and received.</summary>
internal sealed class ByteCounters
{
    private long _sent;
    private long _received;

    /// <summary>Gets the number of bytes written to the underlying transport.</summary>
    public long BytesSent => Interlocked.Read(ref _sent);

    /// <summary>Gets the number of bytes read from the underlying transport.</summary>
    public long BytesReceived => Interlocked.Read(ref _received);

    internal void AddSent(long count) => Interlocked.Add(ref _sent, count);

    internal void AddReceived(long count) => Interlocked.Add(ref _received, count);
}
