using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;

namespace SecureMigration.Channel;

/// <summary>
/// An established, mutually authenticated TLS 1.3 channel over a transport pipe. Write plaintext to
/// <see cref="Output"/> and read plaintext from <see cref="Input"/>; completing <see cref="Output"/> sends
/// close_notify. A truncated or tampered stream completes <see cref="Input"/> with a
/// <see cref="SecureChannelException"/>; no unauthenticated byte is ever delivered.
/// </summary>
public sealed class SecureChannel : IDuplexPipe, IAsyncDisposable
{
    private readonly TlsEngine _engine;
    private readonly HandshakeState _state;
    private readonly ILogger _logger;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _inboundPump;
    private readonly Task _outboundPump;
    private long _bytesSent;
    private long _bytesReceived;
    private int _disposed;

    internal SecureChannel(TlsEngine engine, HandshakeState state, PeerIdentity peer, MigrationTicket ticket, int maxBufferedBytes, ILogger logger)
    {
        _engine = engine;
        _state = state;
        _logger = logger;
        Peer = peer;
        Ticket = ticket;
        CipherSuite = TlsPeerConfiguration.SuiteName(state.CipherSuite);
        var pipeOptions = new PipeOptions(pauseWriterThreshold: maxBufferedBytes, resumeWriterThreshold: maxBufferedBytes / 2,
            minimumSegmentSize: 64 * 1024, useSynchronizationContext: false);
        _inbound = new Pipe(pipeOptions);
        _outbound = new Pipe(pipeOptions);
        _inboundPump = Task.Run(PumpInboundAsync);
        _outboundPump = Task.Run(PumpOutboundAsync);
    }

    /// <summary>Gets the decrypted data from the peer.</summary>
    public PipeReader Input => _inbound.Reader;

    /// <summary>Gets the writer for data to the peer; complete it to close the channel gracefully.</summary>
    public PipeWriter Output => _outbound.Writer;

    /// <summary>Gets the authenticated peer.</summary>
    public PeerIdentity Peer { get; }

    /// <summary>Gets the migration ticket both ends agreed on.</summary>
    public MigrationTicket Ticket { get; }

    /// <summary>Gets the negotiated TLS 1.3 cipher suite, e.g. <c>TLS_AES_256_GCM_SHA384</c>.</summary>
    public string CipherSuite { get; }

    /// <summary>Gets the application bytes sent so far.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Gets the application bytes received so far.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>
    /// Waits until this end has sent close_notify after <see cref="Output"/> completed, and the peer's data has
    /// been read to its end or failed.
    /// </summary>
    /// <returns>A task that completes when both directions have ended.</returns>
    public Task Completion => Task.WhenAll(_inboundPump, _outboundPump);

    /// <summary>Closes the channel: sends close_notify if not yet sent, stops reading and wipes the session keys.</summary>
    /// <returns>A task that completes when the channel is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await _outboundPump.ConfigureAwait(false);
        await _shutdown.CancelAsync().ConfigureAwait(false);
        await _inboundPump.ConfigureAwait(false);
        await _inbound.Reader.CompleteAsync().ConfigureAwait(false);
        _engine.Dispose();
        _state.Dispose();
        _shutdown.Dispose();
    }

    private async Task PumpInboundAsync()
    {
        PipeWriter writer = _inbound.Writer;
        try
        {
            while (true)
            {
                while (_engine.ApplicationDataAvailable > 0)
                {
                    Memory<byte> memory = writer.GetMemory(Math.Min(_engine.ApplicationDataAvailable, 64 * 1024));
                    int count = _engine.ReadApplicationData(memory);
                    writer.Advance(count);
                    Interlocked.Add(ref _bytesReceived, count);
                    ChannelMetrics.Bytes.Add(count, new KeyValuePair<string, object?>("direction", "received"));
                    FlushResult flush = await writer.FlushAsync(_shutdown.Token).ConfigureAwait(false);
                    if (flush.IsCompleted)
                    {
                        return;
                    }
                }

                if (_engine.PeerClosed)
                {
                    await writer.CompleteAsync().ConfigureAwait(false);
                    return;
                }

                if (await _engine.ReceiveAsync(_shutdown.Token).ConfigureAwait(false) && !_engine.PeerClosed)
                {
                    // The transport ended without the peer's close_notify: this throws the truncation error.
                    _engine.CloseInput();
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            SecureChannelException failure = TlsErrors.ToChannelFailure(e);
            Log.ChannelFailed(_logger, Peer.Name, failure.Reason, failure.Message);
            ChannelMetrics.Failures.Add(1, new KeyValuePair<string, object?>("reason", failure.Reason.ToString()));
            await writer.CompleteAsync(failure).ConfigureAwait(false);
            await _outbound.Reader.CompleteAsync(failure).ConfigureAwait(false);
        }
    }

    private async Task PumpOutboundAsync()
    {
        PipeReader reader = _outbound.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await _engine.WriteApplicationDataAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Add(ref _bytesSent, buffer.Length);
                    ChannelMetrics.Bytes.Add(buffer.Length, new KeyValuePair<string, object?>("direction", "sent"));
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            await _engine.CloseOutputAsync(CancellationToken.None).ConfigureAwait(false);

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            SecureChannelException failure = TlsErrors.ToChannelFailure(e);
            await reader.CompleteAsync(failure).ConfigureAwait(false);
        }
    }
}
