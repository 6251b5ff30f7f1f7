using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using SecureMigration.Channel;

namespace SecureMigration.Tunnel;

/// <summary>
/// Copies bytes both ways between a hypervisor's plain TCP socket and a secure channel. A clean close on one
/// side becomes a clean close on the other (FIN ↔ close_notify); a reset or a failed channel becomes a reset;
/// a connection idle for too long is reset on both sides.
/// </summary>
internal static class TunnelSplicer
{
    private const int ChunkSize = 64 * 1024;

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

    private static async Task<bool> PlainToSecureAsync(Socket plain, PipeWriter secure, Action activity, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                Memory<byte> memory = secure.GetMemory(ChunkSize);
                int read = await plain.ReceiveAsync(memory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await secure.CompleteAsync().ConfigureAwait(false);
                    return true;
                }

                activity();
                secure.Advance(read);
                FlushResult flush = await secure.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    return false;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or InvalidOperationException or SecureChannelException)
        {
            return false;
        }
    }

    private static async Task<bool> SecureToPlainAsync(PipeReader secure, Socket plain, Action activity, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                ReadResult result = await secure.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    activity();
                    await plain.SendAsync(segment, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                secure.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    plain.Shutdown(SocketShutdown.Send);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException or InvalidOperationException or SecureChannelException)
        {
            return false;
        }
    }
}
