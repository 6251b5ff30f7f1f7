using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Cli;

/// <summary>A QEMU that does not answer in time: the message names the command-line option that raises the timeout (issue 16).</summary>
public sealed class QemuTimeoutOptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Migrate_QemuNeverAnswersItsMonitor_SaysToRaiseQemuTimeout()
    {
        foreach (string[] pki in new[] { ["pki", "init", "--out", _dir.File("ca")], new[] { "pki", "issue", "--ca", _dir.File("ca"),
            "--name", "src.test", "--out", _dir.File("src") } })
        {
            (int made, string said) = await Secmig.RunAsync(pki);
            Assert.True(made == 0, said);
        }

        // A monitor that greets and then never answers, as a QEMU stuck in a long operation.
        await using var stuck = new FakeQmpServer(_dir.File("vm1.qmp"), async connection =>
        {
            await connection.SendAsync(FakeQmpServer.Greeting);
            await connection.ReceiveAsync();
            await connection.ReceiveAsync();
        });

        (int exit, string output) = await Secmig.RunAsync(
            "migrate", "--vm", "vm1", "--qmp", _dir.File("vm1.qmp"), "--to", "127.0.0.1:9", "--peer-name", "dst.test", "--work",
                _dir.File("work"),
            "--registry", _dir.File("registry"), "--cert", _dir.File("src/cert.pem"), "--key", _dir.File("src/key.pem"), "--ca",
                _dir.File("ca/ca.pem"),
            "--qemu-timeout", "1");

        Assert.True(exit == 1, output);
        Assert.Contains($"QEMU did not answer 'qmp_capabilities' on unix:{_dir.File("vm1.qmp")} within 1 s", output,
            StringComparison.Ordinal);
        Assert.Contains("raise --qemu-timeout", output, StringComparison.Ordinal);
        Assert.DoesNotContain("QmpClientOptions", output, StringComparison.Ordinal);
    }
}
