using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// Moves the hypervisor's migration stream over the wire in data frames, hashing it on both ends; every wait is bounded
/// by the stall timeout of the wire's <see cref="StallWatchdog"/>.
/// </summary>
internal sealed class StreamPump(FrameCodec codec, StallWatchdog watchdog, TimeSpan stallTimeout)
{
    /// <summary>
    /// The largest read from the hypervisor's stream, and so the largest data frame sent (within <see cref="MigrationWire.MaxDataFrame"/>).
    /// </summary>
    private const int SourceChunkBytes = 256 * 1024;

    /// <summary>
    /// Sends <paramref name="source"/> to its end in data frames, hashing it; returns its length. The hypervisor's
    /// stream is read in large chunks (one frame each): a few large reads cost far less than many record-sized ones
    /// when the hypervisor and both agents share busy cores, and the copy into the records is cheap beside that.
    /// The chunk buffer is wiped before it goes back to the pool. The channel is flushed every <paramref name="flushBytes"/>.
    /// </summary>
    public async ValueTask<long> SendStreamAsync(Stream source, NonCryptographicHashAlgorithm digest, int flushBytes,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        // The hypervisor may send nothing for a while (QEMU held before switchover, a slow pass); the peer's abort or
        // a broken channel must end the send at once, not at the stall timeout.
        using var peerEnded = new CancellationTokenSource();
        using var stopWatching = new CancellationTokenSource();
        using CancellationTokenSource linked =
            CancellationTokenSource.CreateLinkedTokenSource(watchdog.Token, peerEnded.Token, cancellationToken);
        Task<Exception?> watching = WatchPeerAsync(peerEnded, stopWatching.Token);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(SourceChunkBytes);
        long total = 0;
        long unflushed = 0;
        try
        {
            while (true)
            {
                watchdog.Arm(stallTimeout);
                int read = await source.ReadAsync(chunk.AsMemory(0, SourceChunkBytes), linked.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    await codec.FlushAsync(linked.Token).ConfigureAwait(false);
                    return total;
                }

                ReadOnlySpan<byte> payload = chunk.AsSpan(0, read);
                codec.WriteData(payload);
                digest.Append(payload);
                total += read;
                unflushed += read;
                if (unflushed >= flushBytes)
                {
                    await codec.FlushAsync(linked.Token).ConfigureAwait(false);
                    unflushed = 0;
                    progress?.Invoke(total);
                }
            }
        }
        catch (OperationCanceledException) when (peerEnded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw await PeerInterruptionAsync(await watching.ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) when (WireFailures.IsChannelProblem(e, cancellationToken) || e is InvalidOperationException or
            HypervisorException)
        {
            throw WireFailures.Translate(e, "sending the migration stream", watchdog);
        }
        finally
        {
            await stopWatching.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            CryptographicOperations.ZeroMemory(chunk.AsSpan(0, SourceChunkBytes));
            ArrayPool<byte>.Shared.Return(chunk);
            watchdog.Disarm();
        }
    }

    /// <summary>
    /// Receives data frames into <paramref name="sink"/>, hashing them, until the end-of-stream frame; returns what was
    /// received and what the source says it sent.
    /// </summary>
    public async ValueTask<ReceivedStream> ReceiveStreamAsync(Stream sink, NonCryptographicHashAlgorithm digest, Action<long>? progress,
        CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(watchdog.Token, cancellationToken);
        long total = 0;
        try
        {
            while (true)
            {
                watchdog.Arm(stallTimeout);
                (FrameType type, int length) = await codec.ReadHeaderAsync(linked.Token).ConfigureAwait(false);
                switch (type)
                {
                    case FrameType.Data when length is > 0 and <= MigrationWire.MaxDataFrame:
                        await codec.CopyPayloadAsync(length, sink, digest, linked.Token).ConfigureAwait(false);
                        total += length;
                        progress?.Invoke(total);
                        break;
                    case FrameType.EndOfStream when length == sizeof(ulong) + MigrationWire.DigestLength:
                        byte[] end = await codec.ReadPayloadAsync(length, linked.Token).ConfigureAwait(false);
                        return new ReceivedStream(total, (long)BinaryPrimitives.ReadUInt64LittleEndian(end), end[sizeof(ulong)..]);
                    case FrameType.Abort when length <= MigrationWire.MaxControlFrame:
                        byte[] reason = await codec.ReadPayloadAsync(length, linked.Token).ConfigureAwait(false);
                        throw new MigrationAbortedException(WireFailures.PeerReason(reason), byPeer: true);
                    default:
                        throw new MigrationAbortedException(
                            $"the source broke the protocol: a {type} frame of {length} bytes during the stream", byPeer: false);
                }
            }
        }
        catch (Exception e) when (WireFailures.IsChannelProblem(e, cancellationToken))
        {
            throw WireFailures.Translate(e, "receiving the migration stream", watchdog);
        }
        finally
        {
            watchdog.Disarm();
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
            await codec.WaitForAnythingAsync(stop).ConfigureAwait(false);
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
            return WireFailures.Translate(channelFailure, "sending the migration stream", watchdog);
        }

        // The rest of the frame is due at once; the stall timeout bounds the wait for it.
        watchdog.Arm(stallTimeout);
        try
        {
            (FrameType type, int length) = await codec.ReadHeaderAsync(watchdog.Token).ConfigureAwait(false);
            if (type != FrameType.Abort || length > MigrationWire.MaxControlFrame)
            {
                return new MigrationAbortedException(
                    $"the peer broke the protocol: a {type} frame of {length} bytes during the stream", byPeer: false);
            }

            byte[] reason = await codec.ReadPayloadAsync(length, watchdog.Token).ConfigureAwait(false);
            return new MigrationAbortedException(WireFailures.PeerReason(reason), byPeer: true);
        }
        catch (Exception e) when (WireFailures.IsChannelProblem(e, CancellationToken.None) || e is MigrationAbortedException)
        {
            return e as MigrationAbortedException ?? WireFailures.Translate(e, "sending the migration stream", watchdog);
        }
    }
}
