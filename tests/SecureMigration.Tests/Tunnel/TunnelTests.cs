using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tunnel;

namespace SecureMigration.Tests.Tunnel;

public sealed class TunnelTests(TestPki pki) : IClassFixture<TestPki>
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    private (TunnelConnector Source, TunnelAcceptor Destination) Start(EchoServer hypervisor,
        X509ChannelCredentials? sourceCredentials = null,
        TimeProvider? time = null, EndPoint? sourceListen = null, params int[] allowedUsers)
    {
        var tunnelOptions = new TunnelOptions { TimeProvider = time ?? TimeProvider.System };
        SecureChannelOptions destinationOptions = ChannelHarness.Options(pki.Credentials(pki.Destination), time);
        destinationOptions.PeerPolicy.AllowedPeers.Add("source.test");
        var destinationFactory = new SecureChannelFactory(destinationOptions);
        var acceptor = new TunnelAcceptor(AnyLoopback, hypervisor.EndPoint, destinationFactory, options: tunnelOptions);
        acceptor.Start();
        var sourceFactory = new SecureChannelFactory(ChannelHarness.Options(sourceCredentials ?? pki.Credentials(pki.Source), time));
        var sourceOptions = new TunnelOptions { TimeProvider = tunnelOptions.TimeProvider };
        foreach (int uid in allowedUsers)
        {
            sourceOptions.AllowedLocalUsers.Add(uid);
        }

        var connector = new TunnelConnector(sourceListen ?? AnyLoopback, acceptor.LocalEndPoint, "destination.test", sourceFactory,
            sourceOptions);
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

    /// <summary>Defense: the destination end serves only named peers unless told to serve all (issue 14, hole 6).</summary>
    [Fact]
    public async Task TunnelAcceptor_FactoryThatAllowsEveryPeer_IsRefusedUnlessAllowAnyPeerIsSet()
    {
        await using var hypervisor = new EchoServer();
        var everyone = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));

        ArgumentException refused = Assert.Throws<ArgumentException>(() => new TunnelAcceptor(AnyLoopback, hypervisor.EndPoint, everyone));
        Assert.Contains("AllowAnyPeer", refused.Message, StringComparison.Ordinal);
        await using var allowed = new TunnelAcceptor(AnyLoopback, hypervisor.EndPoint, everyone,
            options: new TunnelOptions { AllowAnyPeer = true });
    }

    /// <summary>Defense: the source end listens on loopback or a unix socket unless told otherwise (issue 14, hole 6).</summary>
    [Fact]
    public void TunnelConnector_NonLoopbackAddress_IsRefusedUnlessRemoteClientsAreAllowed()
    {
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));

        ArgumentException refused = Assert.Throws<ArgumentException>(() => new TunnelConnector(new IPEndPoint(IPAddress.Any, 0),
            AnyLoopback, "destination.test", factory));
        Assert.Contains("AllowRemoteClients", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Defense: the source end carries only the local users it is told to, over TCP loopback and a unix socket (issue 14, hole
    /// 6).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TunnelConnector_ConnectionFromAUserNotAllowed_IsResetAndNothingReachesTheHypervisor(bool unixSocket)
    {
        using var directory = new TempDirectory();
        EndPoint listen = unixSocket ? new UnixDomainSocketEndPoint(directory.File("tunnel.sock")) : AnyLoopback;
        await using var hypervisor = new EchoServer();
        var (source, destination) = Start(hypervisor, sourceListen: listen, allowedUsers: 65534);
        await using (destination)
        await using (source)
        {
            using Socket client = unixSocket ? new Socket(AddressFamily.Unix, SocketType.Stream,
                ProtocolType.Unspecified) : new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await client.ConnectAsync(source.LocalEndPoint);
                await client.SendAsync("secret VM memory"u8.ToArray());
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
            {
                // Reset before the send (or as the connection completed): refused just as surely.
            }

            Assert.Empty(await client.ReceiveToEndAsync());
        }

        Assert.Equal(0, hypervisor.Connections);
    }

    /// <summary>Issue 16: a remote where nothing listens is named as unreachable, not as a channel that failed (Truncated).</summary>
    [Fact]
    public async Task TunnelConnector_NothingListensAtTheRemote_LogsThatItCannotReachItAndResetsTheHypervisor()
    {
        // Bound but not listening: a connection to it is refused at once.
        using var closed = new Socket(SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(AnyLoopback);
        var lines = new List<string>();
        using var logging = new ListLoggerFactory(lines);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        await using var source = new TunnelConnector(AnyLoopback, closed.LocalEndPoint!, "destination.test", factory,
            loggerFactory: logging);
        source.Start();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);

        try
        {
            await client.ConnectAsync(source.LocalEndPoint);
            Assert.Empty(await client.ReceiveToEndAsync());
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The connector logs, then resets; its reset can overtake the completion of this connect (seen once in CI).
        }

        string line;
        lock (lines)
        {
            line = Assert.Single(lines, l => l.Contains("dropped", StringComparison.Ordinal));
        }

        Assert.Contains($"cannot reach {closed.LocalEndPoint} (Connection refused)", line, StringComparison.Ordinal);
        Assert.Contains("Is 'secmig tunnel accept' running there", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Truncated", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TunnelConnector_OverAUnixSocketFromThisUser_CarriesTheStream()
    {
        using var directory = new TempDirectory();
        await using var hypervisor = new EchoServer();
        var (source, destination) = Start(hypervisor, sourceListen: new UnixDomainSocketEndPoint(directory.File("tunnel.sock")));
        await using (destination)
        await using (source)
        {
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(source.LocalEndPoint);
            await client.SendAsync("VM memory"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);

            Assert.Equal("VM memory"u8.ToArray(), await client.ReceiveToEndAsync());
        }
    }

    [Fact]
    public async Task Tunnel_SourceFromAnotherCa_NeverReachesTheHypervisor()
    {
        await using var hypervisor = new EchoServer();
        IssuedCredentialPair rogue = new(pki.OtherCa.IssueHost("source.test"));
        var (source, destination) = Start(hypervisor, X509ChannelCredentials.FromPem(rogue.Credential.CertificatePem,
            rogue.Credential.PrivateKeyPem, pki.Ca.CertificatePem));
        await using (destination)
        await using (source)
        {
            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            bool connected = false;
            try
            {
                await client.ConnectAsync(source.LocalEndPoint);
                connected = true;
                await client.SendAsync("secret VM memory"u8.ToArray());
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The tunnel refused the peer and reset this connection before the send, or even before this side saw its
                // connect complete (seen once in CI): refused just as surely.
            }

            if (connected)
            {
                Assert.Empty(await client.ReceiveToEndAsync());
            }
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
        SecureChannelOptions destinationOptions = ChannelHarness.Options(pki.Credentials(pki.Destination));
        destinationOptions.PeerPolicy.AllowedPeers.Add("source.test");
        var destinationFactory = new SecureChannelFactory(destinationOptions);
        await using var destination = new TunnelAcceptor(AnyLoopback, (IPEndPoint)resetting.LocalEndpoint, destinationFactory,
            options: tunnelOptions);
        destination.Start();
        var sourceFactory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        await using var source = new TunnelConnector(AnyLoopback, destination.LocalEndPoint, "destination.test", sourceFactory,
            tunnelOptions);
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

    private sealed record IssuedCredentialPair(SecureMigration.Testing.Pki.IssuedCredential Credential);
}
