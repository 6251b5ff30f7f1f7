using SecureMigration.Cli.Commands;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class AgentConfigurationTests
{
    private const string Settings = """
        { "SecureMigration": { "Agent": {
          "Listen": "127.0.0.1:0", "Vms": { "vm1": "/run/none-1.qmp", "vm2": "/run/none-2.qmp" },
          "Work": "work", "Cert": "dst/cert.pem", "Key": "dst/key.pem", "Ca": "ca/ca.pem", "AllowPeers": [ "src.test" ], "StallTimeout": 5 } } }
        """;

    [Fact]
    public async Task Agent_WithConfigFile_TakesItsSettingsAndTheCommandLineWins()
    {
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "dst.test", "--out", dir.File("dst"));
        await File.WriteAllTextAsync(dir.File("agent.json"), Settings);

        await using ExternalProcess fromFile = Secmig.Start("agent", "--config", dir.File("agent.json"));
        string served = await fromFile.WaitForAsync("listening ");
        // Its own --work: one secmig process holds a work directory at a time.
        await using ExternalProcess overridden = Secmig.Start("agent", "--config", dir.File("agent.json"), "--vm", "vm9=/run/none-9.qmp",
            "--work", dir.File("work9"));
        string overriddenServed = await overridden.WaitForAsync("listening ");

        Assert.Matches(@"^127\.0\.0\.1:\d+ as dst\.test for vm1, vm2", served);
        Assert.Matches(@"^127\.0\.0\.1:\d+ as dst\.test for vm9\b", overriddenServed);
        Assert.True(Directory.Exists(dir.File("work")), "a relative Work is taken relative to the configuration file");
    }

    /// <summary>Issue 16: what --config can supply is not marked REQUIRED in help; a run without it names what is missing.</summary>
    [Fact]
    public async Task Agent_Help_MarksNothingRequiredThatConfigSupplies_AndARunWithoutThemNamesThem()
    {
        (int helpExit, string help) = await Secmig.RunAsync("agent", "--help");
        (int exit, string output) = await Secmig.RunAsync("agent", "--work", "/nonexistent/work", "--psk-file", "/nonexistent",
            "--psk-identity", "x", "--shared-psk");

        Assert.Equal(0, helpExit);
        Assert.DoesNotContain("REQUIRED", help, StringComparison.Ordinal);
        Assert.Equal(2, exit);
        Assert.Contains("Missing --listen (Listen in --config), --vm (Vms in --config)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_ConfigWithAKeyItDoesNotKnow_ExitsTwoNamingTheKey()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("agent.json"), """{ "SecureMigration": { "Agent": { "Listen": "127.0.0.1:0", "MaxHandshakesPerAddress": 8 } } }""");

        (int exit, string output) = await Secmig.RunAsync("agent", "--config", dir.File("agent.json"));

        Assert.Equal(2, exit);
        Assert.Contains("MaxHandshakesPerAddress", output, StringComparison.Ordinal);
        Assert.Contains("does not know", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_WithAMissingConfigFile_ExitsTwoAndSaysWhatToGive()
    {
        (int exit, string output) = await Secmig.RunAsync("agent", "--config", "/nonexistent/agent.json");

        Assert.Equal(2, exit);
        Assert.Contains("--config '/nonexistent/agent.json' does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ToArguments_SkipsWhatTheCommandLineGivesAndResolvesPathsAgainstTheFile()
    {
        var settings = new AgentConfiguration
        {
            Listen = "0.0.0.0:4443", Work = "work", Vms = { ["vm1"] = "/run/vm1.qmp" }, AllowPeers = ["a", "b"], Crls = ["ca/ca-crl.pem"],
                StallTimeout = 7,
        };

        string[] tokens = [.. settings.ToArguments(new HashSet<string> { "--listen" }, "/etc/secmig")];

        Assert.Equal(["--vm", "vm1=/run/vm1.qmp", "--work", "/etc/secmig/work", "--stall-timeout", "7", "--crl",
            "/etc/secmig/ca/ca-crl.pem",
            "--allow-peer", "a", "--allow-peer", "b"], tokens);
    }

    [Fact]
    public void ToArguments_MemoryDirsAndAllowTcpQmp_BecomeTheirOptions()
    {
        var settings = new AgentConfiguration { MemoryDirs = ["ram", "/var/lib/ram"], AllowTcpQmp = true };

        string[] tokens = [.. settings.ToArguments(new HashSet<string>(), "/etc/secmig")];

        Assert.Equal(["--memory-dir", "/etc/secmig/ram", "--memory-dir", "/var/lib/ram", "--allow-tcp-qmp"], tokens);
    }

    [Fact]
    public void ToArguments_HandshakeLimits_BecomeTheirOptions()
    {
        var settings = new AgentConfiguration
        {
            MaxHandshakes = 32, MaxHandshakesPerPrefix = 4, HandshakeRate = 2.5, HandshakeBurst = 8, Ipv4Prefix = 16, Ipv6Prefix = 48,
            FirstByteTimeout = 2, KnownSources = ["10.1.2.0/24", "src.example"], ReservedHandshakes = 8,
        };

        string[] tokens = [.. settings.ToArguments(new HashSet<string> { "--ipv6-prefix" }, "/etc/secmig")];

        Assert.Equal(["--max-handshakes", "32", "--max-handshakes-per-prefix", "4", "--handshake-rate", "2.5", "--handshake-burst", "8",
            "--ipv4-prefix", "16", "--first-byte-timeout", "2", "--known-source", "10.1.2.0/24", "--known-source", "src.example",
            "--reserved-handshakes", "8"], tokens);
    }

    [Theory]
    [InlineData("--max-handshakes-per-prefix", "0", "--max-handshakes-per-prefix is 0; it must be 1 to")]
    [InlineData("--reserved-handshakes", "65", "--reserved-handshakes is 65; it must be 0 to")]
    [InlineData("--known-source", "10.1.2.3/24", "--known-source '10.1.2.3/24' has bits set past its /24")]
    [InlineData("--known-source", "no-such-host.invalid", "--known-source 'no-such-host.invalid' is not an address, a network")]
    public async Task Agent_BadHandshakeLimit_ExitsTwoNamingTheOption(string option, string value, string message)
    {
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "dst.test", "--out", dir.File("dst"));

        (int exit, string output) = await Secmig.RunAsync("agent", "--listen", "127.0.0.1:0", "--vm", "vm1=/nonexistent/vm1.qmp",
            "--work", dir.File("work"), "--cert", dir.File("dst/cert.pem"), "--key", dir.File("dst/key.pem"), "--ca", dir.File("ca/ca.pem"),
            "--allow-peer", "src.test", option, value);

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_TcpQmpMonitor_ExitsTwoUnlessAllowTcpQmp()
    {
        // Defense: an unauthenticated QMP over TCP monitor is refused unless --allow-tcp-qmp.
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "dst.test", "--out", dir.File("dst"));
        string[] arguments = ["agent", "--listen", "127.0.0.1:0", "--vm", "vm1=tcp:127.0.0.1:4444", "--work", dir.File("work"),
            "--cert", dir.File("dst/cert.pem"), "--key", dir.File("dst/key.pem"), "--ca", dir.File("ca/ca.pem"), "--allow-peer",
                "src.test"];

        (int exit, string output) = await Secmig.RunAsync(arguments);
        await using ExternalProcess allowed = Secmig.Start([.. arguments, "--allow-tcp-qmp"]);
        string served = await allowed.WaitForAsync("listening ");

        Assert.True(exit == 2, output);
        Assert.Contains("VM 'vm1' has its QMP monitor at tcp:127.0.0.1:4444, a TCP address", output, StringComparison.Ordinal);
        Assert.Contains("for vm1", served, StringComparison.Ordinal);
    }
}
