using SecureMigration.Tests.Infrastructure;
using SecureMigration.Transport;

namespace SecureMigration.Tests.Transport;

public sealed class DuplexPipeStreamTests
{
    [Fact]
    public async Task Stream_OverAPipe_WritesToOutputAndReadsFromInput()
    {
        var pair = new DuplexPair();
        await using var client = new DuplexPipeStream(pair.Client);
        await using var server = new DuplexPipeStream(pair.Server);

        await client.WriteAsync("ping"u8.ToArray());
        await client.FlushAsync();
        byte[] received = new byte[4];
        await server.ReadExactlyAsync(received);
        client.Dispose();

        Assert.Equal("ping"u8.ToArray(), received);
        Assert.Equal(0, await server.ReadAsync(new byte[1]));
    }

    [Fact]
    public async Task StreamDuplexPipe_CountsBytesBothWays()
    {
        await using LoopbackTcp tcp = await LoopbackTcp.ConnectAsync();
        await tcp.Client.Output.WriteAsync(new byte[1000]);
        System.IO.Pipelines.ReadResult result = await tcp.Server.Input.ReadAtLeastAsync(1000);
        tcp.Server.Input.AdvanceTo(result.Buffer.End);

        Assert.Equal(1000, tcp.Client.Counters.BytesSent);
        Assert.Equal(1000, tcp.Server.Counters.BytesReceived);
    }
}
