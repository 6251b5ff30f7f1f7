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
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
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

    private static async Task PumpAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Cut.
        }
    }
}
