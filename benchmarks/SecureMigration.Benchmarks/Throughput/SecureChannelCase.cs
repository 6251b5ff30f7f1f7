using System.Net.Sockets;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Transport;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>SecureMigration's channel: BouncyCastle TLS 1.3 with .NET AesGcm record protection, over pipes.</summary>
internal sealed class SecureChannelCase : ITransportCase
{
    private static readonly SecureChannelFactory Source =
        new(new SecureChannelOptions { Credentials = BenchmarkPki.Credentials(BenchmarkPki.Source) });

    private static readonly SecureChannelFactory Destination =
        new(new SecureChannelOptions { Credentials = BenchmarkPki.Credentials(BenchmarkPki.Destination) });

    public string Name => "SecureChannel TLS 1.3 AES-256-GCM";

    public static async Task<(SecureChannel Client, SecureChannel Server, StreamDuplexPipe ClientWire, StreamDuplexPipe ServerWire)>
        OpenAsync()
    {
        (Socket clientSocket, Socket serverSocket) = await LoopbackPair.ConnectAsync();
        StreamDuplexPipe clientWire = StreamDuplexPipe.Create(clientSocket);
        StreamDuplexPipe serverWire = StreamDuplexPipe.Create(serverSocket);
        Task<SecureChannel> accept = Destination.AcceptAsync(serverWire);
        SecureChannel client = await Source.ConnectAsync(clientWire,
            MigrationTicket.Create("bench-vm", "source.bench", "destination.bench", 1, TimeSpan.FromMinutes(1)));
        return (client, await accept, clientWire, serverWire);
    }

    public async Task MoveAsync(long bytes)
    {
        var (client, server, clientWire, serverWire) = await OpenAsync();
        await using (clientWire)
        await using (serverWire)
        await using (client)
        await using (server)
        {
            await PipeTransfer.SendAndDrainAsync(client.Output, server.Input, bytes);
        }
    }
}
