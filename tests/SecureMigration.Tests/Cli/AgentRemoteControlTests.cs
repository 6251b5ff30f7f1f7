using System.Text.Json;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>The control API over TCP (issue 19): mutual TLS with the agent's CA, and only the orchestrators it names; another host of the
/// cluster, whose certificate the same CA issued, is refused.</summary>
public sealed class AgentRemoteControlTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public AgentRemoteControlTests()
    {
        Secmig.RunAsync("pki", "init", "--out", _dir.File("ca")).GetAwaiter().GetResult();
        Secmig.RunAsync("pki", "init", "--out", _dir.File("rogue")).GetAwaiter().GetResult();
        foreach ((string name, string folder, string ca) in new[] { ("dst.test", "dst", "ca"), ("orch.test", "orch", "ca"),
            ("src.test", "src", "ca"), ("orch.test", "forged", "rogue") })
        {
            Secmig.RunAsync("pki", "issue", "--ca", _dir.File(ca), "--name", name, "--out", _dir.File(folder)).GetAwaiter().GetResult();
        }
    }

    [RequiresProgramFact("curl")]
    public async Task ControlOverTcp_ServesTheNamedOrchestrator_AndRefusesAnotherHostAForgedNameAndNoCertificate()
    {
        await using ExternalProcess agent = Secmig.Start("agent", "--listen", "127.0.0.1:0", "--vm", "vm1=/run/none-1.qmp", "--work",
            _dir.File("work"), "--registry", _dir.File("registry"), "--cert", _dir.File("dst/cert.pem"), "--key", _dir.File("dst/key.pem"),
            "--ca", _dir.File("ca/ca.pem"), "--allow-peer", "src.test", "--control-listen", "127.0.0.1:0", "--control-allow", "orch.test");
        string rest = await agent.WaitForAsync("control https://");
        string port = rest[(rest.IndexOf(':', StringComparison.Ordinal) + 1)..rest.IndexOf(' ', StringComparison.Ordinal)];

        (int servedExit, string served) = await CurlAsync(port, "orch");
        (int hostExit, string host) = await CurlAsync(port, "src");
        (int forgedExit, _) = await CurlAsync(port, "forged");
        (int anonymousExit, _) = await CurlAsync(port, null);

        Assert.Equal(0, servedExit);
        using JsonDocument health = JsonDocument.Parse(served);
        Assert.Equal("dst.test", health.RootElement.GetProperty("host").GetString());
        Assert.NotEqual(0, hostExit);
        Assert.DoesNotContain("dst.test", host, StringComparison.Ordinal);
        Assert.NotEqual(0, forgedExit);
        Assert.NotEqual(0, anonymousExit);
        Assert.Contains("is not on the allow-list", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlOverTcp_WithoutAnAllowList_IsRefusedAtStart()
    {
        (int exit, string output) = await Secmig.RunAsync("agent", "--listen", "127.0.0.1:0", "--vm", "vm1=/run/none-1.qmp", "--work",
            _dir.File("work"), "--cert", _dir.File("dst/cert.pem"), "--key", _dir.File("dst/key.pem"), "--ca", _dir.File("ca/ca.pem"),
            "--control-listen", "127.0.0.1:0");

        Assert.Equal(2, exit);
        Assert.Contains("--control-listen needs --control-allow", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("work")), "refused before anything is created");
    }

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Output)> CurlAsync(string port, string? client) => ProcessRunner.RunAsync("curl",
        ["-sS", "--max-time", "20", "--cacert", _dir.File("ca/ca.pem"), "--resolve", $"dst.test:{port}:127.0.0.1",
            .. client is null ? Array.Empty<string>() : ["--cert", _dir.File($"{client}/cert.pem"), "--key", _dir.File($"{client}/key.pem")],
            $"https://dst.test:{port}/v1/health"], TimeSpan.FromSeconds(60));
}
