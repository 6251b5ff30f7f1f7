using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>Both tunnel ends as real secmig processes, with credentials written by secmig pki.</summary>
public sealed class TunnelCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _work = new();

    public async Task InitializeAsync()
    {
        await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "dst.test", "--out", _work.File("dst"));
        await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "src.test", "--out", _work.File("src"));
        await Secmig.RunAsync("pki", "init", "--out", _work.File("rogue-ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", _work.File("rogue-ca"), "--name", "src.test", "--out", _work.File("rogue"));
    }

    public Task DisposeAsync()
    {
        _work.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Tunnel_ConnectAndAcceptProcesses_CarryTheStreamBothWays()
    {
        await using var hypervisor = new EchoServer();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "src", "--allow-peer",
            "src.test");
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        await AssertEchoedThroughAsync(connectPort, 1 << 20);
        await acceptEnd.WaitForAsync("Secure channel established as destination with peer 'src.test'");
    }

    /// <summary>
    /// Defense (issue 15, item 2): stalled handshakes from 127.0.1.0/24 and 127.0.2.0/24 fill every slot 'tunnel accept'
    /// gives them (16, of which 4 are reserved for the known source), and the stream from 127.0.0.1 still goes through.
    /// </summary>
    [Fact]
    public async Task TunnelAccept_FloodOf500StalledHandshakes_AStreamFromAKnownSourceStillGoesThroughAndMemoryStaysBounded()
    {
        await using var hypervisor = new EchoServer();
        int acceptPort = FreePort.Next();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "src", acceptPort,
            "--allow-peer", "src.test", "--known-source", "127.0.0.1", "--max-handshakes", "16", "--reserved-handshakes", "4",
            "--first-byte-timeout", "2");
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;
        ProcessMemory before = ProcessMemory.Of(acceptEnd.Id);

        await using (HandshakeFlood flood = HandshakeFlood.Start(new IPEndPoint(IPAddress.Loopback, acceptPort), 500))
        {
            await flood.WaitForAttemptsAsync(1000);
            await AssertEchoedThroughAsync(connectPort, 16 << 20);
            ProcessMemory after = ProcessMemory.Of(acceptEnd.Id);
            Console.WriteLine($"tunnel accept under a flood of {flood.Attempts} connections: before {before}; after the stream {after}");
            Assert.True(after.PeakResidentMiB - before.ResidentMiB < HandshakeFlood.MemoryBoundMiB, $"before {before}; after {after}");
        }

        Assert.InRange(acceptEnd.Output.Split('\n').Count(l => l.Contains("refused before it started", StringComparison.Ordinal)), 1, 20);
    }

    [Fact]
    public async Task Tunnel_SourceFromAnotherCa_IsRefusedLoggedAndNeverReachesTheHypervisor()
    {
        await AssertRefusedBeforeTheHypervisorAsync("rogue", "UntrustedChain", "--allow-peer", "src.test");
    }

    /// <summary>A port already in use is one line with the remedy and exit 2, never a stack trace (issue 16).</summary>
    [Fact]
    public async Task TunnelAccept_OnAPortAlreadyInUse_SaysSoInOneLineWithExit2()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();

        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", taken.LocalEndPoint!.ToString()!, "--forward",
            "127.0.0.1:1",
            "--cert", _work.File("dst/cert.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"), "--allow-peer",
                "src.test");

        Assert.True(exit == 2, output);
        Assert.Contains("choose another --listen address or port", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    /// <summary>Defense: 'tunnel accept' serves only the sources it is told to (issue 14, hole 6).</summary>
    [Fact]
    public async Task TunnelAccept_WithoutAllowPeer_RefusesToStart()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", $"127.0.0.1:{FreePort.Next()}", "--forward",
            "127.0.0.1:1",
            "--cert", _work.File("dst/cert.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"));

        Assert.Equal(2, exit);
        Assert.Contains("--allow-peer NAME", output, StringComparison.Ordinal);
        Assert.Contains("--allow-any-peer", output, StringComparison.Ordinal);
    }

    /// <summary>Defense: an insider (a certificate from the cluster's own CA, another name) never reaches the hypervisor (issue 14, hole
    /// 6).</summary>
    [Fact]
    public async Task Tunnel_InsiderFromTheSameCaNotAllowed_NeverReachesTheHypervisor()
    {
        await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "evil.test", "--out", _work.File("evil"));
        await AssertRefusedBeforeTheHypervisorAsync("evil", "NotAllowed", "--allow-peer", "src.test");
    }

    /// <summary>Defense: 'tunnel connect' listens on loopback or a unix socket only, unless told otherwise (issue 14, hole 6).</summary>
    [Fact]
    public async Task TunnelConnect_OnANonLoopbackAddress_RefusesToStartUnlessRemoteClientsAreAllowed()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "connect", "--listen", "0.0.0.0:0", "--connect", "127.0.0.1:1",
            "--peer-name", "dst.test",
            "--cert", _work.File("src/cert.pem"), "--key", _work.File("src/key.pem"), "--ca", _work.File("ca/ca.pem"));

        Assert.Equal(2, exit);
        Assert.Contains("--allow-remote-clients", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Defense: 'tunnel connect' carries only the local users it is told to (SO_PEERCRED on a unix socket, the socket
    /// owner on loopback TCP); another local user's connection is reset unread (issue 14, hole 6).
    /// </summary>
    [RequiresRootFact]
    public async Task TunnelConnect_ConnectionFromAnotherLocalUser_IsResetAndNeverReachesTheDestination()
    {
        await using var hypervisor = new EchoServer();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "src", "--allow-peer",
            "src.test");
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        // 'nobody' (uid 65534) connects and writes; the tunnel must reset it without opening a channel.
        (_, string output) = await ProcessRunner.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
            $"exec 3<>/dev/tcp/127.0.0.1/{connectPort}; printf 'VM memory' >&3; cat <&3"], TimeSpan.FromSeconds(30));

        await connectEnd.WaitForAsync("comes from local user 65534");
        // 'nobody' again, closing at once: its closed socket is listed as root's (inode 0) and must not pass as root.
        await ProcessRunner.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
            $"exec 3<>/dev/tcp/127.0.0.1/{connectPort}; printf 'VM memory' >&3; exec 3>&-"], TimeSpan.FromSeconds(30));
        await connectEnd.WaitUntilAsync(o => o.Split("refused: it comes from").Length > 2, "the second refusal");
        Assert.Equal(0, hypervisor.Connections);
        Assert.DoesNotContain("VM memory", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Secure channel established", acceptEnd.Output, StringComparison.Ordinal);

        // The user secmig runs as (the default) is carried.
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        await client.SendAsync("VM memory"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("VM memory"u8.ToArray(), await client.ReceiveToEndAsync());
    }

    [RequiresProgramFact("openssl")]
    public async Task Tunnel_SourceRevokedByCrl_IsRefusedAsRevokedAndNeverReachesTheHypervisor()
    {
        OpenSslCa ca = OpenSslCa.FromPem(_work.Path, "ca-openssl", File.ReadAllText(_work.File("ca/ca.pem")),
            File.ReadAllText(_work.File("ca/ca.key")));
        ca.Revoke(_work.File("src/cert.pem"));
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);
        await AssertRefusedBeforeTheHypervisorAsync("src", "Revoked", "--allow-peer", "src.test", "--crl", crl);
    }

    [Fact]
    public async Task Tunnel_CrlWithPsk_IsAUsageError()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", "127.0.0.1:4443", "--forward", "127.0.0.1:1",
            "--psk-keyring", _work.File("x.keys"), "--local-name", "x", "--crl", _work.File("x.crl"), "--allow-peer", "y");

        Assert.Equal(2, exit);
        Assert.Contains("--crl applies to certificates", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Sends VM bytes into a tunnel whose source end holds <paramref name="source"/>'s credentials, and asserts the
    /// destination end refused it with <paramref name="reason"/>: no byte came back and the hypervisor saw no connection.
    /// </summary>
    private async Task AssertRefusedBeforeTheHypervisorAsync(string source, string reason, params string[] acceptOptions)
    {
        await using var hypervisor = new EchoServer();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, source, acceptOptions);
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        await client.SendAsync("VM memory"u8.ToArray());

        Assert.Empty(await client.ReceiveToEndAsync());
        await acceptEnd.WaitForAsync(reason);
        Assert.Equal(0, hypervisor.Connections);
    }

    /// <summary>Starts 'tunnel accept' (as dst.test, forwarding to the hypervisor) and 'tunnel connect' with the source's
    /// credentials.</summary>
    private Task<(ExternalProcess Accept, ExternalProcess Connect, int ConnectPort)> StartTunnelAsync(EchoServer hypervisor, string source,
        params string[] acceptOptions) => StartTunnelAsync(hypervisor, source, FreePort.Next(), acceptOptions);

    private async Task<(ExternalProcess Accept, ExternalProcess Connect, int ConnectPort)> StartTunnelAsync(EchoServer hypervisor,
        string source,
        int acceptPort, params string[] acceptOptions)
    {
        int connectPort = FreePort.Next();
        ExternalProcess accept = Secmig.Start(["tunnel", "accept", "--listen", $"127.0.0.1:{acceptPort}", "--forward",
            $"127.0.0.1:{hypervisor.EndPoint.Port}",
            "--cert", _work.File("dst/cert.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"), .. acceptOptions]);
        await accept.WaitForAsync("Ctrl+C stops");
        ExternalProcess connect = Secmig.Start("tunnel", "connect", "--listen", $"127.0.0.1:{connectPort}", "--connect",
            $"127.0.0.1:{acceptPort}",
            "--peer-name", "dst.test", "--cert", _work.File($"{source}/cert.pem"), "--key", _work.File($"{source}/key.pem"), "--ca",
                _work.File("ca/ca.pem"));
        await connect.WaitForAsync("Ctrl+C stops");
        return (accept, connect, connectPort);
    }

    [Fact]
    public async Task Tunnel_MissingCredentialFile_ExitsWith2AndNamesTheFile()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", $"127.0.0.1:{FreePort.Next()}", "--forward",
            "127.0.0.1:1",
            "--cert", _work.File("missing.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"), "--allow-peer",
                "src.test");

        Assert.Equal(2, exit);
        Assert.Contains("missing.pem", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tunnel_MixedCredentialModes_IsAUsageError()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", "127.0.0.1:4443", "--forward", "127.0.0.1:1",
            "--cert", _work.File("dst/cert.pem"), "--psk-file", _work.File("x.psk"), "--allow-peer", "src.test");

        Assert.Equal(2, exit);
        Assert.Contains("Give one of: --cert, --key and --ca; or --psk-keyring with --local-name; or --psk-file and --psk-identity with " +
            "--shared-psk", output, StringComparison.Ordinal);
    }

    /// <summary>Sends random bytes into 'tunnel connect' and checks the echo hypervisor behind 'tunnel accept' returns them all.</summary>
    private static async Task AssertEchoedThroughAsync(int connectPort, int size)
    {
        byte[] payload = RandomNumberGenerator.GetBytes(size);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        Task<byte[]> echo = client.ReceiveToEndAsync();
        await client.SendAsync(payload);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(payload, await echo);
    }
}
