using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Stalled handshakes against a listener from 127.0.1.0/24 and 127.0.2.0/24 (Linux routes all of 127/8 to lo): each
/// of <c>connections</c> workers connects from its own address, sends nothing (even workers) or the first bytes of a
/// ClientHello (odd workers), holds the connection until the listener closes it, waits a second and connects again,
/// until disposed.
/// </summary>
public sealed class HandshakeFlood : IAsyncDisposable
{
    /// <summary>A TLS record header announcing a 512-byte handshake message, and the start of a ClientHello.</summary>
    private static readonly byte[] PartialClientHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];

    /// <summary>How much a flooded process's resident memory may grow, its own work included (measured: 4–17 MiB).</summary>
    public const double MemoryBoundMiB = 64;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private int _attempts;

    private HandshakeFlood(IPEndPoint target, int connections)
    {
        _workers = [.. Enumerable.Range(0, connections).Select(i => Task.Run(() => WorkAsync(target, i)))];
    }

    /// <summary>Gets how many connections the flood has opened or tried to open.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public static HandshakeFlood Start(IPEndPoint target, int connections) => new(target, connections);

    /// <summary>Waits until the flood has made <paramref name="attempts"/> connection attempts.</summary>
    public async Task WaitForAttemptsAsync(int attempts)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (Attempts < attempts)
        {
            await Task.Delay(50, patience.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        _stop.Dispose();
    }

    private async Task WorkAsync(IPEndPoint target, int worker)
    {
        var source = new IPEndPoint(IPAddress.Parse($"127.0.{1 + (worker % 2)}.{1 + (worker / 2 % 250)}"), 0);
        while (!_stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _attempts);
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(source);
                await socket.ConnectAsync(target, _stop.Token);
                if (worker % 2 == 1)
                {
                    await socket.SendAsync(PartialClientHello, _stop.Token);
                }

                // Held until the listener closes it (at once when refused, at a timeout when admitted).
                await socket.ReceiveAsync(new byte[16 * 1024], _stop.Token);
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // Refused with a reset: try again after a pause, as a patient attacker would.
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
