using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SecureMigration.Channel;

namespace SecureMigration.Tunnel;

/// <summary>
/// Copies bytes both ways between a hypervisor's plain TCP socket and a secure channel. A clean close on one
/// side becomes a clean close on the other (FIN ↔ close_notify); a reset or a failed channel becomes a reset;
/// a connection idle for too long is reset on both sides.
/// </summary>
internal static class TunnelSplicer
{
    private const int ChunkSize = 256 * 1024;

    public static async Task<SpliceOutcome> SpliceAsync(Socket plain, SecureChannel secure, Func<ValueTask> abortSecure,
        TunnelOptions options, CancellationToken cancellationToken)
    {
        using var idle = new CancellationTokenSource(options.IdleTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, cancellationToken);
        void Activity() => idle.CancelAfter(options.IdleTimeout);

        Task<bool> upstream = PlainToSecureAsync(plain, secure.Output, Activity, linked.Token);
        Task<bool> downstream = SecureToPlainAsync(secure.Input, plain, Activity, linked.Token);
        Task<bool> first = await Task.WhenAny(upstream, downstream).ConfigureAwait(false);
        if (!await first.ConfigureAwait(false))
        {
            await linked.CancelAsync().ConfigureAwait(false);
        }

        bool clean = await upstream.ConfigureAwait(false) & await downstream.ConfigureAwait(false);
        if (clean)
        {
            plain.Close();
            return SpliceOutcome.Closed;
        }

        // Abort both sides without a graceful close: the peer sees a truncated channel, the hypervisor a reset.
        plain.LingerState = new LingerOption(true, 0);
        plain.Close();
        await abortSecure().ConfigureAwait(false);
        return idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested ? SpliceOutcome.IdleTimeout : SpliceOutcome.Reset;
    }

    private static async Task<bool> PlainToSecureAsync(Socket plain, PipeWriter secure, Action activity,
        CancellationToken cancellationToken)
    {
        // Large socket reads, then one copy into sealed records: fewer system calls than record-sized reads.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                int read = await plain.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await secure.CompleteAsync().ConfigureAwait(false);
                    return true;
                }

                activity();
                secure.Write(buffer.AsSpan(0, read));
                FlushResult flush = await secure.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return false;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or InvalidOperationException or
            SecureChannelException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static async Task<bool> SecureToPlainAsync(PipeReader secure, Socket plain, Action activity,
        CancellationToken cancellationToken)
    {
        var segments = new List<ArraySegment<byte>>();
        try
        {
            while (true)
            {
                ReadResult result = await secure.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    activity();
                    await SendAllAsync(plain, buffer, segments, cancellationToken).ConfigureAwait(false);
                }

                secure.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    plain.Shutdown(SocketShutdown.Send);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or InvalidOperationException or
            SecureChannelException)
        {
            return false;
        }
    }

    /// <summary>Sends a whole buffer with one gathering write where its segments are arrays (they are, from the channel).</summary>
    private static async ValueTask SendAllAsync(Socket plain, ReadOnlySequence<byte> buffer, List<ArraySegment<byte>> segments,
        CancellationToken cancellationToken)
    {
        segments.Clear();
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                segments.Clear();
                foreach (ReadOnlyMemory<byte> piece in buffer)
                {
                    await plain.SendAsync(piece, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            segments.Add(array);
        }

        while (segments.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int sent = await plain.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
            while (sent > 0 && segments.Count > 0)
            {
                ArraySegment<byte> first = segments[0];
                if (sent >= first.Count)
                {
                    sent -= first.Count;
                    segments.RemoveAt(0);
                }
                else
                {
                    segments[0] = first.Slice(sent);
                    sent = 0;
                }
            }
        }
    }
}
