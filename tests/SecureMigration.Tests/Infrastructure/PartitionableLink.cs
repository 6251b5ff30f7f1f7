using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A TCP link on loopback between one host and one server (an etcd member), which a test can partition: every open
/// connection is reset and new ones are reset as they arrive, until the link heals. The loopback stand-in for a host cut
/// off by a network partition.
/// </summary>
public sealed class PartitionableLink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly List<Socket> _open = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _accepting;
    private bool _partitioned;
    private (Func<Task<bool>> Answered, Func<Task> Instead)? _loss;

    public PartitionableLink(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the address the host connects to instead of the server's.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Cuts the link: open connections are reset, new ones too.</summary>
    public void Partition()
    {
        lock (_gate)
        {
            _partitioned = true;
            foreach (Socket socket in _open)
            {
                Reset(socket);
            }

            _open.Clear();
        }
    }

    /// <summary>
    /// Lets an answer of the server be lost: each time it sends bytes, <paramref name="answered"/> is asked whether the
    /// request has been carried out (so those bytes are its answer, not a protocol's own traffic); the first bytes it says yes
    /// to are dropped and <paramref name="instead"/> runs (typically: partition, act as another host, heal).
    /// </summary>
    /// <param name="answered">Whether the request the answer is lost for has been carried out.</param>
    /// <param name="instead">What happens instead of the answer; it runs once.</param>
    public void LoseAnswer(Func<Task<bool>> answered, Func<Task> instead)
    {
        lock (_gate)
        {
            _loss = (answered, instead);
        }
    }

    /// <summary>Lets connections through again.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            _partitioned = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closed.CancelAsync();
        _listener.Stop();
        Partition();
        await _accepting;
        _closed.Dispose();
    }

    private async Task<Func<Task>?> TakeLossAsync()
    {
        (Func<Task<bool>> Answered, Func<Task> Instead)? loss;
        lock (_gate)
        {
            loss = _loss;
        }

        if (loss is not { } armed || !await armed.Answered())
        {
            return null;
        }

        lock (_gate)
        {
            if (_loss is null)
            {
                return null;
            }

            _loss = null;
            return armed.Instead;
        }
    }

    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_closed.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_closed.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_gate)
        {
            if (_partitioned)
            {
                Reset(client);
                server.Dispose();
                return;
            }

            _open.Add(client);
            _open.Add(server);
        }

        try
        {
            await server.ConnectAsync(_target);
            await Task.WhenAny(PumpAsync(client, server, answers: false), PumpAsync(server, client, answers: true));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The link was cut or a side went away.
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(client);
                _open.Remove(server);
            }

            Reset(client);
            Reset(server);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool answers)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                if (answers && await TakeLossAsync() is { } instead)
                {
                    await instead();
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Cut.
        }
    }
}
