using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>A connected pair of TCP sockets on 127.0.0.1.</summary>
internal static class LoopbackPair
{
    public static async Task<(Socket Client, Socket Server)> ConnectAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        Socket server = await accept;
        server.NoDelay = true;
        return (client, server);
    }
}
