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
            try
            {
                await client.SendAsync("secret VM memory"u8.ToArray());
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The tunnel refused the peer and reset this connection before the send: refused just as surely.
            }

            byte[] received = await client.ReceiveToEndAsync();
            Assert.Empty(received);
        }

        Assert.Equal(0, hypervisor.Connections);
    }

    [Fact]
    public async Task Tunnel_HypervisorResets_TheResetReachesTheSourcePromptly()
    {
        using var resetting = new TcpListener(IPAddress.Loopback, 0);
        resetting.Start();
        Task reset = Task.Run(async () =>
        {
            using Socket victim = await resetting.AcceptSocketAsync();
            await victim.ReceiveAsync(new byte[1]);
            victim.LingerState = new LingerOption(true, 0);
            victim.Close();
        });
        var tunnelOptions = new TunnelOptions();
        var destinationFactory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        await using var destination = new TunnelAcceptor(AnyLoopback, (IPEndPoint)resetting.LocalEndpoint, destinationFactory, options: tunnelOptions);
        destination.Start();
        var sourceFactory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        await using var source = new TunnelConnector(AnyLoopback, destination.LocalEndPoint, "destination.test", sourceFactory, tunnelOptions);
        source.Start();

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(source.LocalEndPoint);
        await client.SendAsync(new byte[] { 1 });
        await reset;

        // The hypervisor's reset becomes a dropped channel, which becomes a reset of the source's connection.
        SocketException error = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            byte[] buffer = new byte[16];
            while (await client.ReceiveAsync(buffer) > 0)
            {
            }

            throw new SocketException((int)SocketError.Success);
        });
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
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
