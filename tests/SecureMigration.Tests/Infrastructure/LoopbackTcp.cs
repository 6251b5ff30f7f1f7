using System.Net;
using System.Net.Sockets;
using SecureMigration.Transport;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A real TCP connection over 127.0.0.1, wrapped as two transport pipes.</summary>
internal sealed class LoopbackTcp : IAsyncDisposable
{
    private LoopbackTcp(StreamDuplexPipe client, StreamDuplexPipe server)
    {
        Client = client;
        Server = server;
    }

    public StreamDuplexPipe Client { get; }

    public StreamDuplexPipe Server { get; }

    public static async Task<LoopbackTcp> ConnectAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        Socket server = await accept;
        return new LoopbackTcp(StreamDuplexPipe.Create(client), StreamDuplexPipe.Create(server));
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
