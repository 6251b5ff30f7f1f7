using System.IO.Pipelines;

namespace SecureMigration.Transport;

/// <summary>
/// A <see cref="Stream"/> over an <see cref="IDuplexPipe"/>, for code that speaks streams
/// (a hypervisor API, <c>CopyToAsync</c>). Reads come from <see cref="IDuplexPipe.Input"/>, writes go to
/// <see cref="IDuplexPipe.Output"/> and are flushed at once.
/// </summary>
internal sealed class DuplexPipeStream : Stream
{
    private readonly IDuplexPipe _pipe;
    private readonly Stream _reader;
    private readonly Stream _writer;

    /// <summary>Creates a stream over <paramref name="pipe"/>; disposing the stream completes both halves.</summary>
    /// <param name="pipe">The duplex pipe.</param>
    public DuplexPipeStream(IDuplexPipe pipe)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        _pipe = pipe;
        _reader = pipe.Input.AsStream(leaveOpen: true);
        _writer = pipe.Output.AsStream(leaveOpen: true);
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => _reader.Read(buffer, offset, count);

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _reader.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _reader.ReadAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => _writer.Write(buffer, offset, count);

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _writer.WriteAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _writer.WriteAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc />
    public override void Flush() => _writer.Flush();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => _writer.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pipe.Input.Complete();
            _pipe.Output.Complete();
        }

        base.Dispose(disposing);
    }
}
