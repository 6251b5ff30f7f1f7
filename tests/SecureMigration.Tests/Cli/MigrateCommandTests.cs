using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>'secmig migrate' refusing a command line before it touches anything.</summary>
public sealed class MigrateCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <summary>Options that only qualify a credential mode (a name, a peer, a CRL, a pin) are no credentials: one line that says
    /// which are needed, exit 2, no stack trace.</summary>
    [Theory]
    [InlineData("--local-name", "src.test")]
    [InlineData("--allow-peer", "dst.test")]
    [InlineData("--crl", "missing.crl")]
    [InlineData("--pin-spki", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public async Task Migrate_OnlyOptionsThatQualifyCredentials_IsAUsageErrorNamingTheCredentialsNeeded(string option, string value)
    {
        (int exit, string output) = await Secmig.RunAsync("migrate", "--vm", "vm1", "--qmp", _dir.File("vm1.qmp"), "--to",
            "127.0.0.1:4443", "--peer-name", "dst.test", "--work", _dir.File("work"), "--retries", "0", option, value);

        Assert.True(exit == 2, output);
        Assert.StartsWith("secmig: Give one of: --cert, --key and --ca; or --psk-keyring with --local-name; or --psk-file and " +
            "--psk-identity with --shared-psk (--local-name, --allow-peer, --crl and --pin-spki only qualify one of these); or ask " +
            "the host's agent with --agent.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.File("work")), "nothing was done");
    }

    public void Dispose() => _dir.Dispose();
}
