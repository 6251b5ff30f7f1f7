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
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "src", "--allow-peer", "src.test");
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        byte[] payload = RandomNumberGenerator.GetBytes(1 << 20);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        Task<byte[]> echo = client.ReceiveToEndAsync();
        await client.SendAsync(payload);
        client.Shutdown(SocketShutdown.Send);

        Assert.Equal(payload, await echo);
        await acceptEnd.WaitForAsync("Secure channel established as destination with peer 'src.test'");
    }

    [Fact]
    public async Task Tunnel_SourceFromAnotherCa_IsRefusedLoggedAndNeverReachesTheHypervisor()
    {
        await using var hypervisor = new EchoServer();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "rogue");
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        await client.SendAsync("VM memory"u8.ToArray());
        byte[] received = await client.ReceiveToEndAsync();

        Assert.Empty(received);
        await acceptEnd.WaitForAsync("UntrustedChain");
        Assert.Equal(0, hypervisor.Connections);
    }

    [RequiresProgramFact("openssl")]
    public async Task Tunnel_SourceRevokedByCrl_IsRefusedAsRevokedAndNeverReachesTheHypervisor()
    {
        OpenSslCa ca = OpenSslCa.FromPem(_work.Path, "ca-openssl", File.ReadAllText(_work.File("ca/ca.pem")), File.ReadAllText(_work.File("ca/ca.key")));
        ca.Revoke(_work.File("src/cert.pem"));
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);
        await using var hypervisor = new EchoServer();
        (ExternalProcess accept, ExternalProcess connect, int connectPort) = await StartTunnelAsync(hypervisor, "src", "--crl", crl);
        await using ExternalProcess acceptEnd = accept;
        await using ExternalProcess connectEnd = connect;

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, connectPort);
        await client.SendAsync("VM memory"u8.ToArray());
        byte[] received = await client.ReceiveToEndAsync();

        Assert.Empty(received);
        await acceptEnd.WaitForAsync("Revoked");
        Assert.Equal(0, hypervisor.Connections);
    }

    [Fact]
    public async Task Tunnel_CrlWithPsk_IsAUsageError()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", "127.0.0.1:4443", "--forward", "127.0.0.1:1",
            "--psk-file", _work.File("x.psk"), "--psk-identity", "x", "--crl", _work.File("x.crl"));

        Assert.Equal(2, exit);
        Assert.Contains("--crl applies to certificates", output, StringComparison.Ordinal);
    }

    /// <summary>Starts 'tunnel accept' (as dst.test, forwarding to the hypervisor) and 'tunnel connect' with the source's credentials.</summary>
    private async Task<(ExternalProcess Accept, ExternalProcess Connect, int ConnectPort)> StartTunnelAsync(EchoServer hypervisor, string source,
        params string[] acceptOptions)
    {
        int acceptPort = FreePort.Next();
        int connectPort = FreePort.Next();
        ExternalProcess accept = Secmig.Start(["tunnel", "accept", "--listen", $"127.0.0.1:{acceptPort}", "--forward", $"127.0.0.1:{hypervisor.EndPoint.Port}",
            "--cert", _work.File("dst/cert.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"), .. acceptOptions]);
        await accept.WaitForAsync("Ctrl+C stops");
        ExternalProcess connect = Secmig.Start("tunnel", "connect", "--listen", $"127.0.0.1:{connectPort}", "--connect", $"127.0.0.1:{acceptPort}",
            "--peer-name", "dst.test", "--cert", _work.File($"{source}/cert.pem"), "--key", _work.File($"{source}/key.pem"), "--ca", _work.File("ca/ca.pem"));
        await connect.WaitForAsync("Ctrl+C stops");
        return (accept, connect, connectPort);
    }

    [Fact]
    public async Task Tunnel_MissingCredentialFile_ExitsWith2AndNamesTheFile()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", $"127.0.0.1:{FreePort.Next()}", "--forward", "127.0.0.1:1",
            "--cert", _work.File("missing.pem"), "--key", _work.File("dst/key.pem"), "--ca", _work.File("ca/ca.pem"));

        Assert.Equal(2, exit);
        Assert.Contains("missing.pem", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tunnel_MixedCredentialModes_IsAUsageError()
    {
        (int exit, string output) = await Secmig.RunAsync("tunnel", "accept", "--listen", "127.0.0.1:4443", "--forward", "127.0.0.1:1",
            "--cert", _work.File("dst/cert.pem"), "--psk-file", _work.File("x.psk"));

        Assert.Equal(2, exit);
        Assert.Contains("either --cert, --key and --ca, or --psk-file and --psk-identity", output, StringComparison.Ordinal);
    }
}
