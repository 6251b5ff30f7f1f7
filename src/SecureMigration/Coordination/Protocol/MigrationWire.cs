using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using SecureMigration.Channel;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Text;

namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// The commit protocol's framing over a secure channel: <c>type (u8) | length (u32 LE) | payload</c>. Every length is
/// checked against the type's bound before a byte of the payload is trusted, and every wait is bounded by the stall
/// timeout on the injected clock. Problems surface as <see cref="MigrationAbortedException"/>.
/// </summary>
internal sealed class MigrationWire : IDisposable
{
    public const int MaxDataFrame = 1 << 20;
    public const int MaxControlFrame = 4096;
    /// <summary>The length of the end-to-end stream digest (XXH128; see ADR 0008).</summary>
    public const int DigestLength = 16;
    private const int HeaderLength = 5;

    /// <summary>
    /// The largest read from the hypervisor's stream, and so the largest data frame sent (within <see cref="MaxDataFrame"/>).
    /// </summary>
    private const int SourceChunkBytes = 256 * 1024;

    private readonly IDuplexPipe _channel;
    private readonly TimeSpan _stallTimeout;
    private readonly CancellationTokenSource _stall;
    private TimeSpan _armed;

    public MigrationWire(IDuplexPipe channel, TimeSpan stallTimeout, TimeProvider time)
    {
        _channel = channel;
        _stallTimeout = stallTimeout;
        _stall = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
    }

    /// <summary>How long an abort may wait for a channel that takes nothing.</summary>
    public static readonly TimeSpan AbortPatience = TimeSpan.FromSeconds(2);

    public void Dispose() => _stall.Dispose();

    public ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        SendAsync(type, payload, _stallTimeout, cancellationToken);

    private async ValueTask SendAsync(FrameType type, ReadOnlyMemory<byte> payload, TimeSpan bound, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = Arm(bound, cancellationToken);
        try
        {
            Span<byte> span = _channel.Output.GetSpan(HeaderLength + payload.Length);
            WriteHeader(span, type, payload.Length);
            payload.Span.CopyTo(span[HeaderLength..]);
            _channel.Output.Advance(HeaderLength + payload.Length);
            await FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelProblem(e, cancellationToken))
        {
            throw Translate(e, "sending " + type);
        }
        finally
        {
            Disarm();
        }
    }

    public ValueTask SendAsync(FrameType type, string reason, CancellationToken cancellationToken) =>
        SendAsync(type, Encode(reason), _stallTimeout, cancellationToken);

    /// <summary>
    /// Tells the peer why the migration stops; never throws, since the channel may be the problem. It waits at most
    /// <see cref="AbortPatience"/> (or the stall bound, if shorter) for a channel that takes nothing: the abort is a
    /// courtesy, the peer's own stall bound ends its side, and a rollback (or a Ctrl-C) must not wait out a stalled peer.
    /// </summary>
    public async ValueTask TrySendAbortAsync(string reason)
    {
        try
        {
            TimeSpan bound = _stallTimeout < AbortPatience ? _stallTimeout : AbortPatience;
            await SendAsync(FrameType.Abort, Encode(reason), bound, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationAbortedException or InvalidOperationException or ObjectDisposedException)
        {
            // The peer will see the channel close instead.
        }
    }

    /// <summary>A reason as a control frame's payload: UTF-8, cut at the frame's bound.</summary>
    private static ReadOnlyMemory<byte> Encode(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        return text.AsMemory(0, Math.Min(text.Length, MaxControlFrame));
    }

    /// <summary>How journals, audit logs and errors show a stream digest.</summary>
    public static string DescribeDigest(ReadOnlySpan<byte> digest) => "XXH128 " + Convert.ToHexStringLower(digest);

    /// <summary>
    /// Sends <paramref name="source"/> to its end in data frames, hashing it; returns its length. The hypervisor's
    /// stream is read in large chunks (one frame each): a few large reads cost far less than many record-sized ones
    /// when the hypervisor and both agents share busy cores, and the copy into the records is cheap beside that.
    /// The chunk buffer is wiped before it goes back to the pool. The channel is flushed every <paramref name="flushBytes"/>.
    /// </summary>
    public async ValueTask<long> SendStreamAsync(Stream source, NonCryptographicHashAlgorithm digest, int flushBytes,
        Action<long>? progress, CancellationToken cancellationToken)
    {
        // The hypervisor may send nothing for a while (QEMU held before switchover, a slow pass); the peer's abort or
        // a broken channel must end the send at once, not at the stall timeout.
        using var peerEnded = new CancellationTokenSource();
        using var stopWatching = new CancellationTokenSource();
        using CancellationTokenSource linked =
            CancellationTokenSource.CreateLinkedTokenSource(_stall.Token, peerEnded.Token, cancellationToken);
        Task<Exception?> watching = WatchPeerAsync(peerEnded, stopWatching.Token);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(SourceChunkBytes);
        long total = 0;
        long unflushed = 0;
        try
        {
            while (true)
            {
                Arm(_stallTimeout);
                int read = await source.ReadAsync(chunk.AsMemory(0, SourceChunkBytes), linked.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    await FlushAsync(linked.Token).ConfigureAwait(false);
                    return total;
                }

                ReadOnlySpan<byte> payload = chunk.AsSpan(0, read);
                WriteHeader(_channel.Output.GetSpan(HeaderLength), FrameType.Data, read);
                _channel.Output.Advance(HeaderLength);
                _channel.Output.Write(payload);
                digest.Append(payload);
                total += read;
                unflushed += read;
                if (unflushed >= flushBytes)
                {
                    await FlushAsync(linked.Token).ConfigureAwait(false);
                    unflushed = 0;
                    progress?.Invoke(total);
                }
            }
        }
        catch (OperationCanceledException) when (peerEnded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw await PeerInterruptionAsync(await watching.ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelProblem(e, cancellationToken) || e is InvalidOperationException or HypervisorException)
        {
            throw Translate(e, "sending the migration stream");
        }
        finally
        {
            await stopWatching.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            CryptographicOperations.ZeroMemory(chunk.AsSpan(0, SourceChunkBytes));
            ArrayPool<byte>.Shared.Return(chunk);
            Disarm();
        }
    }

    /// <summary>
    /// While the stream is sent, waits for anything from the peer: nothing is due until the end, so a frame (an
    /// abort) or the channel's end means the migration is over. Consumes nothing, so the frame can still be read.
    /// </summary>
    private async Task<Exception?> WatchPeerAsync(CancellationTokenSource peerEnded, CancellationToken stop)
    {
        try
        {
            ReadResult result = await _channel.Input.ReadAsync(stop).ConfigureAwait(false);
            _channel.Input.AdvanceTo(result.Buffer.Start);
            await peerEnded.CancelAsync().ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is SecureChannelException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            await peerEnded.CancelAsync().ConfigureAwait(false);
            return e;
        }
    }

    /// <summary>Why the peer interrupted the stream: its abort frame's reason, or the channel's failure.</summary>
    private async Task<MigrationAbortedException> PeerInterruptionAsync(Exception? channelFailure)
    {
        if (channelFailure is not null)
        {
            return Translate(channelFailure, "sending the migration stream");
        }

        // The rest of the frame is due at once; the stall timeout bounds the wait for it.
        Arm(_stallTimeout);
        try
        {
            (FrameType type, int length) = await ReadHeaderAsync(_stall.Token).ConfigureAwait(false);
            return type == FrameType.Abort && length <= MaxControlFrame
                ? new MigrationAbortedException(
                    PeerReason(await ReadPayloadAsync(length, _stall.Token).ConfigureAwait(false)), byPeer: true)
                : new MigrationAbortedException(
                    $"the peer broke the protocol: a {type} frame of {length} bytes during the stream", byPeer: false);
        }
        catch (Exception e) when (IsChannelProblem(e, CancellationToken.None) || e is MigrationAbortedException)
        {
            return e as MigrationAbortedException ?? Translate(e, "sending the migration stream");
        }
    }

    /// <summary>
    /// Receives data frames into <paramref name="sink"/>, hashing them, until the end-of-stream frame; returns what was
    /// received and what the source says it sent.
    /// </summary>
    public async ValueTask<ReceivedStream> ReceiveStreamAsync(Stream sink, NonCryptographicHashAlgorithm digest, Action<long>? progress,
        CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(_stall.Token, cancellationToken);
        long total = 0;
        try
        {
            while (true)
            {
                Arm(_stallTimeout);
                (FrameType type, int length) = await ReadHeaderAsync(linked.Token).ConfigureAwait(false);
                switch (type)
                {
                    case FrameType.Data when length is > 0 and <= MaxDataFrame:
                        await CopyPayloadAsync(length, sink, digest, linked.Token).ConfigureAwait(false);
                        total += length;
                        progress?.Invoke(total);
                        break;
                    case FrameType.EndOfStream when length == sizeof(ulong) + DigestLength:
                        byte[] end = await ReadPayloadAsync(length, linked.Token).ConfigureAwait(false);
                        return new ReceivedStream(total, (long)BinaryPrimitives.ReadUInt64LittleEndian(end), end[sizeof(ulong)..]);
                    case FrameType.Abort when length <= MaxControlFrame:
                        throw new MigrationAbortedException(
                            PeerReason(await ReadPayloadAsync(length, linked.Token).ConfigureAwait(false)), byPeer: true);
                    default:
                        throw new MigrationAbortedException(
                            $"the source broke the protocol: a {type} frame of {length} bytes during the stream", byPeer: false);
                }
            }
        }
        catch (Exception e) when (IsChannelProblem(e, cancellationToken))
        {
            throw Translate(e, "receiving the migration stream");
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>Receives one control frame of <paramref name="expected"/> type, or throws for an abort or anything else.</summary>
    public async ValueTask<byte[]> ReceiveAsync(FrameType expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = Arm(timeout, cancellationToken);
        try
        {
            (FrameType type, int length) = await ReadHeaderAsync(linked.Token).ConfigureAwait(false);
            if (length > MaxControlFrame)
            {
                throw new MigrationAbortedException(
                    $"the peer broke the protocol: a {type} frame of {length} bytes where {expected} was due", byPeer: false);
            }

            byte[] payload = await ReadPayloadAsync(length, linked.Token).ConfigureAwait(false);
            if (type == FrameType.Abort)
            {
                throw new MigrationAbortedException(PeerReason(payload), byPeer: true);
            }

            return type == expected
                ? payload
                : throw new MigrationAbortedException($"the peer broke the protocol: {type} where {expected} was due", byPeer: false);
        }
        catch (Exception e) when (IsChannelProblem(e, cancellationToken))
        {
            throw Translate(e, "waiting for " + expected);
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>Arms the wait bound and returns it linked with the caller's token.</summary>
    private CancellationTokenSource Arm(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Arm(timeout);
        return CancellationTokenSource.CreateLinkedTokenSource(_stall.Token, cancellationToken);
    }

    /// <summary>Starts (or restarts) the wait bound; an error names the bound that ran out.</summary>
    private void Arm(TimeSpan timeout)
    {
        _armed = timeout;
        _stall.CancelAfter(timeout);
    }

    private void Disarm()
    {
        if (!_stall.IsCancellationRequested)
        {
            _stall.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        FlushResult result = await _channel.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new MigrationAbortedException("the peer closed the channel", byPeer: false);
        }
    }

    private async ValueTask<(FrameType Type, int Length)> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        ReadResult result = await _channel.Input.ReadAtLeastAsync(HeaderLength, cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (buffer.Length < HeaderLength)
        {
            _channel.Input.AdvanceTo(buffer.Start, buffer.End);
            throw new MigrationAbortedException(
                buffer.IsEmpty ? "the peer closed the channel" : "the channel ended inside a frame", byPeer: false);
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        _channel.Input.AdvanceTo(buffer.GetPosition(HeaderLength));
        return ((FrameType)header[0], (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header[1..]), int.MaxValue));
    }

    private async ValueTask<byte[]> ReadPayloadAsync(int length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return [];
        }

        ReadResult result = await _channel.Input.ReadAtLeastAsync(length, cancellationToken).ConfigureAwait(false);
        if (result.Buffer.Length < length)
        {
            _channel.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            throw new MigrationAbortedException("the channel ended inside a frame", byPeer: false);
        }

        byte[] payload = result.Buffer.Slice(0, length).ToArray();
        _channel.Input.AdvanceTo(result.Buffer.GetPosition(length));
        return payload;
    }

    private async ValueTask CopyPayloadAsync(int length, Stream sink, NonCryptographicHashAlgorithm digest,
        CancellationToken cancellationToken)
    {
        int remaining = length;
        while (remaining > 0)
        {
            ReadResult result = await _channel.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty && result.IsCompleted)
            {
                throw new MigrationAbortedException("the channel ended inside a frame", byPeer: false);
            }

            ReadOnlySequence<byte> take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            foreach (ReadOnlyMemory<byte> segment in take)
            {
                digest.Append(segment.Span);
                await sink.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }

            remaining -= (int)take.Length;
            _channel.Input.AdvanceTo(take.End);
        }
    }

    private static void WriteHeader(Span<byte> destination, FrameType type, int length)
    {
        destination[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)length);
    }

    private static bool IsChannelProblem(Exception e, CancellationToken cancellationToken) =>
        e is SecureChannelException or IOException or ObjectDisposedException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>The peer's abort reason, as text that is safe to journal, log and print.</summary>
    private static string PeerReason(ReadOnlySpan<byte> payload) =>
        "the peer aborted: " + UntrustedText.Bound(Encoding.UTF8.GetString(payload));

    private MigrationAbortedException Translate(Exception e, string doing) => e switch
    {
        MigrationAbortedException aborted => aborted,
        OperationCanceledException when _stall.IsCancellationRequested =>
            new MigrationAbortedException($"nothing moved for {_armed.TotalSeconds:0.###} s while {doing}", byPeer: false, e),
        _ => new MigrationAbortedException($"the channel failed while {doing}: {e.Message}", byPeer: false, e),
    };
}
