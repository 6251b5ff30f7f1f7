using System.Net.Sockets;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>Plain TCP over loopback: the ceiling no secure channel can pass.</summary>
internal sealed class RawTcpCase : ITransportCase
{
    public string Name => "raw TCP (no security)";

    public async Task MoveAsync(long bytes)
    {
        (Socket client, Socket server) = await LoopbackPair.ConnectAsync();
        using (client)
        using (server)
        {
            byte[] chunk = new byte[ThroughputRunner.WriteSize];
            Task receive = Task.Run(async () =>
            {
                byte[] buffer = new byte[ThroughputRunner.WriteSize];
                while (await server.ReceiveAsync(buffer) > 0)
                {
                }
            });
            for (long sent = 0; sent < bytes; sent += chunk.Length)
            {
                await client.SendAsync(chunk);
            }

            client.Shutdown(SocketShutdown.Send);
            await receive;
        }
    }
}
