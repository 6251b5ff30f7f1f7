using System.Net;
using System.Net.Sockets;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>'secmig agent' as an operator starts it beside something that already runs (issue 16).</summary>
public sealed class AgentCommandTests
{
    [Fact]
    public async Task Agent_PortTaken_ExitsTwoInOneLineBeforeCreatingTheWorkDirectory()
    {
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "dst.test", "--out", dir.File("dst"));
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();

        (int exit, string output) = await Secmig.RunAsync("agent", "--listen", taken.LocalEndpoint.ToString()!, "--vm",
            "vm1=/run/none-1.qmp",
            "--work", dir.File("work"), "--cert", dir.File("dst/cert.pem"), "--key", dir.File("dst/key.pem"), "--ca",
                dir.File("ca/ca.pem"));

        Assert.True(exit == 2, output);
        Assert.Contains("cannot listen there", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("work")), "a refused start must not create the work directory");
    }

    [Fact]
    public async Task Agent_WorkDirectoryHeldByAnotherSecmig_ExitsTwoNamingItAndReleasesThePort()
    {
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "dst.test", "--out", dir.File("dst"));
        Directory.CreateDirectory(dir.File("work"));
        using HostStateLock held = HostStateLock.TryAcquire(dir.File("work"))!;
        int port = FreePort.Next();

        (int exit, string output) = await Secmig.RunAsync("agent", "--listen", $"127.0.0.1:{port}", "--vm", "vm1=/run/none-1.qmp",
            "--work", dir.File("work"), "--cert", dir.File("dst/cert.pem"), "--key", dir.File("dst/key.pem"), "--ca",
                dir.File("ca/ca.pem"));

        Assert.True(exit == 2, output);
        Assert.Contains($"Another secmig process (an agent or a migrate) holds the work directory '{dir.File("work")}'", output,
            StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(dir.File("work")), f => Path.GetFileName(f) != ".lock");
        using var again = new TcpListener(IPAddress.Loopback, port);
        again.Start();
    }
}
