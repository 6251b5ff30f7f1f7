namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A hypervisor's stream that sends nothing (QEMU held before switchover) until the read is cancelled; given a stream to
/// begin with, it passes on that stream's first read and then holds the rest.
/// </summary>
public sealed class SilentStream(Stream? firstRead = null) : Stream
{
    private Stream? _firstRead = firstRead;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_firstRead is { } first)
        {
            _firstRead = null;
            return await first.ReadAsync(buffer, cancellationToken);
        }

        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
