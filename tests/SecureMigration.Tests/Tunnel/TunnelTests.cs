using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Credentials;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tunnel;

namespace SecureMigration.Tests.Tunnel;

public sealed class TunnelTests(TestPki pki) : IClassFixture<TestPki>
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    private (TunnelConnector Source, TunnelAcceptor Destination) Start(EchoServer hypervisor, X509ChannelCredentials? sourceCredentials = null,
        TimeProvider? time = null)
    {
        var tunnelOptions = new TunnelOptions { TimeProvider = time ?? TimeProvider.System };
        var destinationFactory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        var acceptor = new TunnelAcceptor(AnyLoopback, hypervisor.EndPoint, destinationFactory, options: tunnelOptions);
        acceptor.Start();
        var sourceFactory = new SecureChannelFactory(ChannelHarness.Options(sourceCredentials ?? pki.Credentials(pki.Source), time));
        var connector = new TunnelConnector(AnyLoopback, acceptor.LocalEndPoint, "destination.test", sourceFactory, tunnelOptions);
        connector.Start();
        return (connector, acceptor);
    }

    [Fact]
    public async Task Tunnel_ConcurrentConnections_CarryEachStreamIntactBothWaysAndPassTheClose()
    {
        await using var hypervisor = new EchoServer();
        var (source, destination) = Start(hypervisor);
        await using (destination)
        await using (source)
        {
            Task[] streams = Enumerable.Range(0, 3).Select(async i =>
            {
                byte[] payload = RandomNumberGenerator.GetBytes(512 * 1024 + i);
                using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync(source.LocalEndPoint);
                Task<byte[]> echo = client.ReceiveToEndAsync();
                await client.SendAsync(payload);
                client.Shutdown(SocketShutdown.Send);

                Assert.Equal(payload, await echo);
            }).ToArray();
            await Task.WhenAll(streams);
        }

        Assert.Equal(3, hypervisor.Connections);
    }

    [Fact]
    public async Task Tunnel_SourceFromAnotherCa_NeverReachesTheHypervisor()
    {
        await using var hypervisor = new EchoServer();
        IssuedCredentialPair rogue = new(pki.OtherCa.IssueHost("source.test"));
        var (source, destination) = Start(hypervisor, X509ChannelCredentials.FromPem(rogue.Credential.CertificatePem, rogue.Credential.PrivateKeyPem, pki.Ca.CertificatePem));
        await using (destination)
        await using (source)
        {
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(source.LocalEndPoint);
            await client.SendAsync("secret VM memory"u8.ToArray());

            byte[] received = await client.ReceiveToEndAsync();
            Assert.Empty(received);
        }

        Assert.Equal(0, hypervisor.Connections);
    }

    [Fact]
    public async Task Tunnel_IdleForLongerThanTheTimeout_ResetsTheHypervisorConnection()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var hypervisor = new EchoServer();
        var (source, destination) = Start(hypervisor, time: time);
        await using (destination)
        await using (source)
        {
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(source.LocalEndPoint);
            await client.SendAsync(new byte[] { 42 });
            byte[] one = new byte[1];
            Assert.Equal(1, await client.ReceiveAsync(one));

            time.Advance(TimeSpan.FromMinutes(6));

            byte[] rest = await client.ReceiveToEndAsync();
            Assert.Empty(rest);
        }
    }

    private sealed record IssuedCredentialPair(SecureMigration.Pki.IssuedCredential Credential);
}
