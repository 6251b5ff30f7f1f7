using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// A hypervisor that costs nothing: its outgoing stream is a fixed buffer repeated to a set length, its incoming stream
/// discards. What remains is the coordinator's own cost: framing, digests at both ends, journal, registry, audit.
/// </summary>
internal sealed class InMemoryHypervisor(long streamBytes) : HypervisorDriver
{
    private static readonly byte[] Memory = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20);
    private readonly HashSet<string> _running = [];

    public void Run(string vmId) => _running.Add(vmId);

    protected override ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Stream>(new RepeatingStream(Memory, streamBytes));

    protected override ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        _running.Add(vmId);
        return ValueTask.CompletedTask;
    }

    protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        _running.Remove(vmId);
        return ValueTask.FromResult<IReadOnlyList<string>>([]);
    }

    protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Stream.Null);

    protected override ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    protected override ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        _running.Add(vmId);
        return ValueTask.CompletedTask;
    }

    protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>([]);

    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new VmStatus(_running.Contains(vmId) ? VmRunState.Running : VmRunState.Absent, []));

    /// <summary>A read-only stream of <c>length</c> bytes cycling through a buffer.</summary>
    private sealed class RepeatingStream(byte[] pattern, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int count = (int)Math.Min(buffer.Length, length - _position);
            int written = 0;
            while (written < count)
            {
                int start = (int)((_position + written) % pattern.Length);
                int chunk = Math.Min(count - written, pattern.Length - start);
                pattern.AsSpan(start, chunk).CopyTo(buffer[written..]);
                written += chunk;
            }

            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
