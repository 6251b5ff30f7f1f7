using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Channel;

/// <summary>
/// An established, mutually authenticated TLS 1.3 channel over a transport pipe. Write plaintext to
/// <see cref="Output"/> and read plaintext from <see cref="Input"/>, each from one task at a time as with any
/// pipe. Completing <see cref="Output"/> sends close_notify, which ends this direction only (the peer may keep
/// sending); completing it with an exception drops the direction without close_notify. A truncated or tampered
/// stream makes <see cref="Input"/> throw <see cref="SecureChannelException"/>; no unauthenticated byte is ever delivered.
/// </summary>
public sealed class SecureChannel : IDuplexPipe, IAsyncDisposable
{
    private readonly RecordLayer _records;
    private readonly ILogger _logger;
    private readonly SealingPipeWriter _output;
    private readonly OpeningPipeReader _input;
    private long _bytesSent;
    private long _bytesReceived;
    private int _disposed;

    internal SecureChannel(RecordLayer records, PeerIdentity peer, MigrationTicket ticket, ReadOnlySpan<byte> alreadyReceived,
        ILogger logger)
    {
        _records = records;
        _logger = logger;
        Peer = peer;
        Ticket = ticket;
        CipherSuite = records.Suite.Name;
        _bytesReceived = alreadyReceived.Length;
        _output = new SealingPipeWriter(records, OnSent);
        _input = new OpeningPipeReader(records, alreadyReceived, OnReceived, OnFailed);
    }

    /// <summary>Gets the decrypted data from the peer.</summary>
    public PipeReader Input => _input;

    /// <summary>Gets the writer for data to the peer; complete it to end this direction with close_notify.</summary>
    public PipeWriter Output => _output;

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
    /// Closes the channel: sends close_notify if <see cref="Output"/> was not completed yet, stops reading and
    /// wipes the traffic keys. It does not dispose the transport.
    /// </summary>
    /// <returns>A task that completes when the channel is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The transport is already gone; there is nobody left to tell.
        }

        await _input.CompleteAsync().ConfigureAwait(false);
        _records.Dispose();
    }

    private void OnSent(long count)
    {
        Interlocked.Add(ref _bytesSent, count);
        if (ChannelTelemetry.Bytes.Enabled)
        {
            ChannelTelemetry.Bytes.Add(count, new KeyValuePair<string, object?>("direction", "sent"));
        }
    }

    private void OnReceived(long count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _bytesReceived, count);
            if (ChannelTelemetry.Bytes.Enabled)
            {
                ChannelTelemetry.Bytes.Add(count, new KeyValuePair<string, object?>("direction", "received"));
            }
        }
    }

    private void OnFailed(SecureChannelException failure)
    {
        Log.ChannelFailed(_logger, Peer.Name, failure.Reason, failure.Message);
        ChannelTelemetry.Failures.Add(1, new KeyValuePair<string, object?>("reason", failure.Reason.ToString()));
    }
}
