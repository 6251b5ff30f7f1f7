using System.IO.Hashing;
using System.IO.Pipelines;

namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// The commit protocol's framing over an authenticated connection: <c>type (u8) | length (u32 LE) | payload</c>
/// (<see cref="FrameCodec"/>). Every length is checked against the type's bound before a byte of the payload is
/// trusted, and every wait is bounded by the stall timeout on the injected clock (<see cref="StallWatchdog"/>); the
/// migration stream itself moves through <see cref="StreamPump"/>. Problems surface as <see cref="MigrationAbortedException"/>.
/// </summary>
internal sealed class MigrationWire : IDisposable
{
    public const int MaxDataFrame = 1 << 20;
    public const int MaxControlFrame = 4096;
    /// <summary>The length of the end-to-end stream digest (XXH128; see ADR 0008).</summary>
    public const int DigestLength = 16;

    private readonly FrameCodec _codec;
    private readonly StallWatchdog _watchdog;
    private readonly StreamPump _pump;
    private readonly TimeSpan _stallTimeout;

    public MigrationWire(IDuplexPipe channel, TimeSpan stallTimeout, TimeProvider time)
    {
        _codec = new FrameCodec(channel);
        _watchdog = new StallWatchdog(time);
        _pump = new StreamPump(_codec, _watchdog, stallTimeout);
        _stallTimeout = stallTimeout;
    }

    /// <summary>How long an abort may wait for a channel that takes nothing.</summary>
    public static readonly TimeSpan AbortPatience = TimeSpan.FromSeconds(2);

    public void Dispose() => _watchdog.Dispose();

    public ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        SendAsync(type, payload, _stallTimeout, cancellationToken);

    public ValueTask SendAsync(FrameType type, string reason, CancellationToken cancellationToken) =>
        SendAsync(type, FrameCodec.Encode(reason), _stallTimeout, cancellationToken);

    /// <summary>
    /// Tells the peer why the migration stops; never throws, since the channel may be the problem. It waits at most
    /// <see cref="AbortPatience"/> (or the stall bound, if shorter) for a channel that takes nothing: the abort is a
    /// courtesy, the peer's own stall bound ends its side, and a rollback (or a Ctrl-C) must not wait out a stalled peer.
    /// </summary>
    public async ValueTask TrySendAbortAsync(string reason)
    {
        try
        {
            TimeSpan patience = _stallTimeout < AbortPatience ? _stallTimeout : AbortPatience;
            await SendAsync(FrameType.Abort, FrameCodec.Encode(reason), patience, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationAbortedException or InvalidOperationException or ObjectDisposedException)
        {
            // The peer will see the channel close instead.
        }
    }

    /// <summary>How journals, audit logs and errors show a stream digest.</summary>
    public static string DescribeDigest(ReadOnlySpan<byte> digest) => "XXH128 " + Convert.ToHexStringLower(digest);

    /// <inheritdoc cref="StreamPump.SendStreamAsync"/>
    public ValueTask<long> SendStreamAsync(Stream source, NonCryptographicHashAlgorithm digest, int flushBytes, Action<long>? progress,
        CancellationToken cancellationToken) =>
        _pump.SendStreamAsync(source, digest, flushBytes, progress, cancellationToken);

    /// <inheritdoc cref="StreamPump.ReceiveStreamAsync"/>
    public ValueTask<ReceivedStream> ReceiveStreamAsync(Stream sink, NonCryptographicHashAlgorithm digest, Action<long>? progress,
        CancellationToken cancellationToken) =>
        _pump.ReceiveStreamAsync(sink, digest, progress, cancellationToken);

    /// <summary>Receives one control frame of <paramref name="expected"/> type, or throws for an abort or anything else.</summary>
    public async ValueTask<byte[]> ReceiveAsync(FrameType expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = _watchdog.Arm(timeout, cancellationToken);
        try
        {
            (FrameType type, int length) = await _codec.ReadHeaderAsync(linked.Token).ConfigureAwait(false);
            if (length > MaxControlFrame)
            {
                throw new MigrationAbortedException(
                    $"the peer broke the protocol: a {type} frame of {length} bytes where {expected} was due", byPeer: false);
            }

            byte[] payload = await _codec.ReadPayloadAsync(length, linked.Token).ConfigureAwait(false);
            if (type == FrameType.Abort)
            {
                throw new MigrationAbortedException(WireFailures.PeerReason(payload), byPeer: true);
            }

            return type == expected
                ? payload
                : throw new MigrationAbortedException($"the peer broke the protocol: {type} where {expected} was due", byPeer: false);
        }
        catch (Exception e) when (WireFailures.IsChannelProblem(e, cancellationToken))
        {
            throw WireFailures.Translate(e, "waiting for " + expected, _watchdog);
        }
        finally
        {
            _watchdog.Disarm();
        }
    }

    private async ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, TimeSpan bound, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = _watchdog.Arm(bound, cancellationToken);
        try
        {
            _codec.Write(type, payload.Span);
            await _codec.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (WireFailures.IsChannelProblem(e, cancellationToken))
        {
            throw WireFailures.Translate(e, "sending " + type, _watchdog);
        }
        finally
        {
            _watchdog.Disarm();
        }
    }
}
