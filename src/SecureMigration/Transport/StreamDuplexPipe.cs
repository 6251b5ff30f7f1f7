using System.IO.Pipelines;
using System.Net.Sockets;

namespace SecureMigration.Transport;

/// <summary>
/// An <see cref="IDuplexPipe"/> over a bidirectional <see cref="Stream"/> (a <see cref="NetworkStream"/>,
/// a hypervisor's stream, a named pipe), with byte counters. Disposing it disposes the stream.
/// </summary>
internal sealed class StreamDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Stream _stream;

    private StreamDuplexPipe(Stream stream, TransportPipeOptions options)
    {
        Counters = new ByteCounters();
        _stream = new CountingStream(stream, Counters);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: options.ReadBufferSize, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: options.MinimumWriteBufferSize,
            leaveOpen: true));
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <summary>Gets the bytes moved through the underlying stream.</summary>
    public ByteCounters Counters { get; }

    /// <summary>Wraps a readable and writable stream.</summary>
    /// <param name="stream">The stream; it is owned by the returned pipe.</param>
    /// <param name="options">Buffer sizes, or <see langword="null"/> for the defaults.</param>
    /// <returns>The duplex pipe.</returns>
    public static StreamDuplexPipe Create(Stream stream, TransportPipeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanWrite)
        {
            throw new ArgumentException("The stream must be both readable and writable to carry a migration channel.", nameof(stream));
        }

        return new StreamDuplexPipe(stream, options ?? TransportPipeOptions.Default);
    }

    /// <summary>Wraps a connected stream socket; the socket is owned by the returned pipe.</summary>
    /// <param name="socket">A connected TCP or Unix stream socket.</param>
    /// <param name="options">Buffer sizes, or <see langword="null"/> for the defaults.</param>
    /// <returns>The duplex pipe.</returns>
    public static StreamDuplexPipe Create(Socket socket, TransportPipeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!socket.Connected)
        {
            throw new ArgumentException("The socket is not connected; connect or accept it before wrapping it.", nameof(socket));
        }

        if (socket.ProtocolType == ProtocolType.Tcp)
        {
            socket.NoDelay = true;
        }

        return Create(new NetworkStream(socket, ownsSocket: true), options);
    }

    /// <summary>
    /// Closes the underlying stream at once, without flushing: pending reads and writes fail, and a socket
    /// peer sees the connection end without a graceful close. Call <see cref="DisposeAsync"/> afterwards.
    /// </summary>
    public void Abort() => _stream.Dispose();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            // Completing flushes what is still buffered, which fails once the stream is aborted or broken.
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Nothing more can reach the peer; the connection is gone either way.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
