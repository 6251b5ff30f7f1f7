using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Testing.Network;

/// <summary>
/// A network attacker on loopback, for the demo's scenes and the fault-injection tests: a TCP relay between source and
/// destination that forwards the (encrypted) bytes and can cut the connection, flip a byte or stall at a chosen offset
/// of the source-to-destination direction, or swallow everything the destination sends from a chosen moment on.
/// </summary>
public sealed class NetworkAttacker : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _run;
    private volatile bool _dropFromDestination;
    private long? _finalAcknowledgementAfter;
    private long _sourceOffset;
    private volatile bool _destinationAnswered;

    /// <summary>Listens on a loopback port and relays every connection to <paramref name="target"/>.</summary>
    /// <param name="target">The destination the relay forwards to.</param>
    public NetworkAttacker(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4);
        _run = RunAsync();
    }

    /// <summary>Gets the relay's address, to give the source in place of the destination's.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Gets or sets the source-to-destination offset at which the relay resets both connections.</summary>
    public long? CutAt { get; set; }

    /// <summary>Gets or sets the source-to-destination offset of a byte the relay flips.</summary>
    public long? FlipAt { get; set; }

    /// <summary>Gets or sets the source-to-destination offset after which the relay holds everything, forever.</summary>
    public long? StallAt { get; set; }

    /// <summary>Gets a task that completes when the relay starts holding bytes.</summary>
    public Task Stalled => _stalled.Task;

    /// <summary>From now on, swallow everything the destination sends (a dropped acknowledgement).</summary>
    public void DropFromDestination() => _dropFromDestination = true;

    /// <summary>
    /// Drops the commit protocol's last message without knowing the protocol's timing: once the source sent
    /// <paramref name="sourceBytes"/> (the stream is under way), the destination's next message (its verdict) passes,
    /// and everything the destination sends after the source answered it (its acknowledgement) is swallowed.
    /// </summary>
    /// <param name="sourceBytes">How far into the source's bytes the stream is surely under way.</param>
    public void DropFinalAcknowledgementAfter(long sourceBytes) => _finalAcknowledgementAfter = sourceBytes;

    /// <summary>Resets every connection now, wherever the stream is.</summary>
    public void CutNow()
    {
        lock (_sockets)
        {
            foreach (Socket socket in _sockets)
            {
                Reset(socket);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (Socket socket in _sockets)
            {
                socket.Dispose();
            }
        }

        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }

            _ = PumpAsync(client, server, fromSource: true);
            _ = PumpAsync(server, client, fromSource: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromSource)
    {
        byte[] buffer = new byte[64 * 1024];
        long offset = 0;
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                int forward = read;
                if (fromSource)
                {
                    if (FlipAt is long flip && flip >= offset && flip < offset + read)
                    {
                        buffer[flip - offset] ^= 0x01;
                    }

                    if (CutAt is long cut && cut < offset + read)
                    {
                        await to.SendAsync(buffer.AsMemory(0, (int)Math.Max(0, cut - offset)), SocketFlags.None,
                            _stop.Token).ConfigureAwait(false);
                        Reset(from);
                        Reset(to);
                        return;
                    }

                    if (StallAt is long stall && stall < offset + read)
                    {
                        await to.SendAsync(buffer.AsMemory(0, (int)Math.Max(0, stall - offset)), SocketFlags.None,
                            _stop.Token).ConfigureAwait(false);
                        _stalled.TrySetResult();
                        await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
                    }
                }
                else if (_dropFromDestination)
                {
                    forward = 0;
                }
                else if (_finalAcknowledgementAfter is long after && Volatile.Read(ref _sourceOffset) >= after)
                {
                    _destinationAnswered = true;
                }

                if (fromSource && _destinationAnswered)
                {
                    _dropFromDestination = true;
                }

                await to.SendAsync(buffer.AsMemory(0, forward), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                offset += read;
                if (fromSource)
                {
                    Volatile.Write(ref _sourceOffset, offset);
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Reset(to);
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }
}
