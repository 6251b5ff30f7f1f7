using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// A hypervisor that costs nothing: its outgoing stream is a fixed buffer repeated to a set length, its incoming stream
/// discards. What remains is the coordinator's own cost: framing, digests at both ends, journal, registry, audit.
/// </summary>
internal sealed class InMemoryHypervisor(long streamBytes) : IHypervisorDriver
{
    private static readonly byte[] Memory = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1 << 20);
    private readonly HashSet<string> _running = [];

    public void Run(string vmId) => _running.Add(vmId);

    public ValueTask<Stream> StartOutgoingAsync(string vmId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<Stream>(new RepeatingStream(Memory, streamBytes));

    public ValueTask ResumeSourceAsync(string vmId, CancellationToken cancellationToken = default)
    {
        _running.Add(vmId);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<string>> DiscardSourceAsync(string vmId, CancellationToken cancellationToken = default)
    {
        _running.Remove(vmId);
        return ValueTask.FromResult<IReadOnlyList<string>>([]);
    }

    public ValueTask<Stream> PrepareDestinationAsync(string vmId, CancellationToken cancellationToken = default) => ValueTask.FromResult(Stream.Null);

    public ValueTask FinishIncomingAsync(string vmId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask ActivateDestinationAsync(string vmId, CancellationToken cancellationToken = default)
    {
        _running.Add(vmId);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<string>> DestroyDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>([]);

    public ValueTask<VmStatus> QueryAsync(string vmId, CancellationToken cancellationToken = default) =>
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

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
