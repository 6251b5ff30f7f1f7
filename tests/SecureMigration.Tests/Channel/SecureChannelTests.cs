using System.IO.Pipelines;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

public sealed class SecureChannelTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task ConnectAccept_MutualX509OverTcp_MovesDataIntactAndAuthenticatesBothEnds()
    {
        await using LoopbackTcp tcp = await LoopbackTcp.ConnectAsync();
        var source = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Source) });
        var destination = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Destination) });
        MigrationTicket ticket = MigrationTicket.Create("vm-1", "source.test", "destination.test", 7, TimeSpan.FromMinutes(1));

        Task<SecureChannel> accepting = destination.AcceptAsync(tcp.Server);
        await using SecureChannel client = await source.ConnectAsync(tcp.Client, ticket);
        await using SecureChannel server = await accepting;

        byte[] payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        Task<byte[]> receiving = ReadToEndAsync(server.Input);
        await client.Output.WriteAsync(payload);
        await client.Output.CompleteAsync();
        byte[] received = await receiving;

        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received));
        Assert.Equal("destination.test", client.Peer.Name);
        Assert.Equal("source.test", server.Peer.Name);
        Assert.Equal(ticket, server.Ticket);
        Assert.Equal("TLS_AES_256_GCM_SHA384", client.CipherSuite);
    }

    [Fact]
    public async Task Output_LargeMemoryAbandonedWithoutAdvance_SendsOnlyWhatWasAdvancedLater()
    {
        await using LoopbackTcp tcp = await LoopbackTcp.ConnectAsync();
        var source = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Source) });
        var destination = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Destination) });
        Task<SecureChannel> accepting = destination.AcceptAsync(tcp.Server);
        await using SecureChannel client = await source.ConnectAsync(tcp.Client, MigrationTicket.Create("vm-1", "source.test",
            "destination.test", 7, TimeSpan.FromMinutes(1)));
        await using SecureChannel server = await accepting;

        // A reader that hit end of input asks for a large buffer, fills nothing and moves on: PipeWriter allows that.
        client.Output.GetMemory(256 * 1024).Span.Fill(0xEE);
        Span<byte> small = client.Output.GetSpan(3);
        "abc"u8.CopyTo(small);
        client.Output.Advance(3);
        await client.Output.FlushAsync();
        await client.Output.CompleteAsync();

        Assert.Equal("abc"u8.ToArray(), await ReadToEndAsync(server.Input));
    }

    internal static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var output = new MemoryStream();
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                output.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return output.ToArray();
            }
        }
    }
}
