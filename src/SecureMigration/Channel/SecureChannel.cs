using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tickets;

namespace SecureMigration.Channel;

/// <summary>
/// An established, mutually authenticated TLS 1.3 channel over a transport pipe. Write plaintext to
/// <see cref="Output"/> and read plaintext from <see cref="Input"/>; completing <see cref="Output"/> sends
/// close_notify, which ends this direction only (the peer may keep sending). A truncated or tampered stream
/// completes <see cref="Input"/> with a <see cref="SecureChannelException"/>; no unauthenticated byte is ever delivered.
/// </summary>
public sealed class SecureChannel : IDuplexPipe, IAsyncDisposable
{
    private readonly RecordLayer _records;
    private readonly ILogger _logger;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _inboundPump;
    private readonly Task _outboundPump;
    private long _bytesSent;
    private long _bytesReceived;
    private int _disposed;

    internal SecureChannel(RecordLayer records, PeerIdentity peer, MigrationTicket ticket, ReadOnlyMemory<byte> alreadyReceived, int maxBufferedBytes,
        ILogger logger)
    {
        _records = records;
        _logger = logger;
        Peer = peer;
        Ticket = ticket;
        CipherSuite = records.Suite.Name;
        var pipeOptions = new PipeOptions(pauseWriterThreshold: maxBufferedBytes, resumeWriterThreshold: maxBufferedBytes / 2,
            minimumSegmentSize: 64 * 1024, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        _inbound = new Pipe(pipeOptions);
        _outbound = new Pipe(pipeOptions);
        if (!alreadyReceived.IsEmpty)
        {
            _inbound.Writer.Write(alreadyReceived.Span);
            _bytesReceived = alreadyReceived.Length;
        }

        _inboundPump = Task.Run(PumpInboundAsync);
        _outboundPump = Task.Run(PumpOutboundAsync);
    }

    /// <summary>Gets the decrypted data from the peer.</summary>
    public PipeReader Input => _inbound.Reader;

    /// <summary>Gets the writer for data to the peer; complete it to end this direction with close_notify.</summary>
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

    /// <summary>Gets a task that completes when both directions have ended (cleanly or not).</summary>
    public Task Completion => Task.WhenAll(_inboundPump, _outboundPump);

    /// <summary>Closes the channel: sends close_notify if not yet sent, stops reading and wipes the traffic keys.</summary>
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
        _records.Dispose();
        _shutdown.Dispose();
    }

    private async Task PumpInboundAsync()
    {
        PipeWriter writer = _inbound.Writer;
        try
        {
            bool open = true;
            while (open)
            {
                long before = writer.UnflushedBytes;
                open = await _records.ReceiveAsync(writer, _shutdown.Token).ConfigureAwait(false);
                long received = writer.UnflushedBytes - before;
                if (received > 0)
                {
                    Interlocked.Add(ref _bytesReceived, received);
                    ChannelMetrics.Bytes.Add(received, new KeyValuePair<string, object?>("direction", "received"));
                }

                FlushResult flush = await writer.FlushAsync(_shutdown.Token).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return;
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            SecureChannelException failure = e as SecureChannelException ?? new SecureChannelException(ChannelFailureReason.Truncated,
                $"The connection failed ({e.Message}) before the peer's close_notify, so the data may be cut short.", e);
            Log.ChannelFailed(_logger, Peer.Name, failure.Reason, failure.Message);
            ChannelMetrics.Failures.Add(1, new KeyValuePair<string, object?>("reason", failure.Reason.ToString()));
            await writer.CompleteAsync(failure).ConfigureAwait(false);
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
                    await _records.WriteAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Add(ref _bytesSent, buffer.Length);
                    ChannelMetrics.Bytes.Add(buffer.Length, new KeyValuePair<string, object?>("direction", "sent"));
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            await _records.CloseOutputAsync(CancellationToken.None).ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await reader.CompleteAsync(e as SecureChannelException ?? new SecureChannelException(ChannelFailureReason.Truncated,
                $"The connection failed while sending ({e.Message}); the peer did not receive everything.", e)).ConfigureAwait(false);
        }
    }
}
