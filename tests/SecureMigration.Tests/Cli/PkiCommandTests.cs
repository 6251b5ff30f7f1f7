using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class PkiCommandTests : IDisposable
{
    private readonly TempDirectory _work = new();

    /// <summary>Certificate renewal (issue 16): a new key replaces the old only when asked, and the pair loads.</summary>
    [Fact]
    public async Task Issue_WithReplaceKey_RenewsTheCertificateWithANewKeyThatLoads()
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"))).ExitCode);
        Assert.Equal(0, (await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "a.test", "--out",
            _work.File("a"))).ExitCode);
        string oldKey = await File.ReadAllTextAsync(_work.File("a/key.pem"));

        (int refused, string refusal) = await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "a.test", "--out",
            _work.File("a"));
        (int renewed, string output) = await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "a.test", "--out",
            _work.File("a"), "--replace-key");

        Assert.Equal(2, refused);
        Assert.Contains("--replace-key", refusal, StringComparison.Ordinal);
        Assert.True(renewed == 0, output);
        Assert.NotEqual(oldKey, await File.ReadAllTextAsync(_work.File("a/key.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_work.File("a/key.pem")));
        var credentials = X509ChannelCredentials.FromPemFiles(_work.File("a/cert.pem"), _work.File("a/key.pem"), _work.File("ca/ca.pem"));
        Assert.Equal("a.test", credentials.LocalIdentity);
        // The new certificate is for the new key (this throws when the key does not match the certificate).
        using var pair = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(_work.File("a/cert.pem"),
            _work.File("a/key.pem"));
        Assert.True(pair.HasPrivateKey);
        Assert.Empty(Directory.GetFiles(_work.File("a"), "*.tmp"));
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task InitIssue_WritesCredentialsTheChannelLoads()
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"))).ExitCode);
        Assert.Equal(0, (await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "dst.test", "--ip", "127.0.0.1", "--out",
            _work.File("dst"))).ExitCode);

        var credentials = X509ChannelCredentials.FromPemFiles(_work.File("dst/cert.pem"), _work.File("dst/key.pem"),
            _work.File("ca/ca.pem"));
        Assert.Equal("dst.test", credentials.LocalIdentity);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_work.File("dst/key.pem")));
    }

    [RequiresProgramFact("openssl")]
    public async Task Issue_CertificatesPassOpenSslVerifyForBothRoles()
    {
        await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "dst.test", "--out", _work.File("dst"));

        string server = OpenSsl.Run("verify", "-CAfile", _work.File("ca/ca.pem"), "-purpose", "sslserver", _work.File("dst/cert.pem"));
        string client = OpenSsl.Run("verify", "-CAfile", _work.File("ca/ca.pem"), "-purpose", "sslclient", _work.File("dst/cert.pem"));

        Assert.Contains(": OK", server, StringComparison.Ordinal);
        Assert.Contains(": OK", client, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_ExistingCaKey_RefusesToOverwriteWithExitCode2()
    {
        await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"));
        byte[] key = await File.ReadAllBytesAsync(_work.File("ca/ca.key"));

        (int exit, string output) = await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"));

        Assert.Equal(2, exit);
        Assert.Contains("refusing to overwrite", output, StringComparison.Ordinal);
        Assert.Equal(key, await File.ReadAllBytesAsync(_work.File("ca/ca.key")));
    }

    [Fact]
    public async Task Issue_WithoutCa_ExplainsHowToCreateOne()
    {
        (int exit, string output) = await Secmig.RunAsync("pki", "issue", "--ca", _work.File("nowhere"), "--name", "x.test", "--out",
            _work.File("x"));

        Assert.Equal(2, exit);
        Assert.Contains("secmig pki init", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_work.File("x")));
    }

    [Fact]
    public async Task Psk_WritesA32ByteHexKeyThatLoads()
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "psk", "--out", _work.File("cluster.psk"))).ExitCode);

        using var credentials = PskChannelCredentials.FromHexFile(_work.File("cluster.psk"), "cluster-a");
        Assert.Equal(64, (await File.ReadAllTextAsync(_work.File("cluster.psk"))).Trim().Length);
    }

    [Fact]
    public async Task PskIdentity_WritesAKeyringPerHostWithAKeyPerPair_AndAddingAHostKeepsTheOldPairs()
    {
        string dir = _work.File("keyrings");
        Assert.Equal(0, (await Secmig.RunAsync("pki", "psk", "--out", dir, "--identity", "a.test", "--identity", "b.test")).ExitCode);
        string pairBefore = Line(dir, "a.test", "b.test");

        (int exit, string output) = await Secmig.RunAsync("pki", "psk", "--out", dir, "--identity", "c.test");

        Assert.True(exit == 0, output);
        Assert.Contains("2 new pairs", output, StringComparison.Ordinal);
        Assert.Equal(pairBefore, Line(dir, "a.test", "b.test"));
        foreach ((string host, string peer) in new[] { ("a.test", "b.test"), ("a.test", "c.test"), ("b.test", "c.test") })
        {
            // Both hosts of a pair hold the same key, each under the other's name; no two pairs share a key.
            Assert.Equal(Line(dir, host, peer)[(peer.Length + 1)..], Line(dir, peer, host)[(host.Length + 1)..]);
        }

        Assert.NotEqual(Line(dir, "a.test", "b.test")[7..], Line(dir, "a.test", "c.test")[7..]);
        foreach (string host in new[] { "a.test", "b.test", "c.test" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, host + ".keys")));
            using var keyring = PskKeyringCredentials.FromFile(Path.Combine(dir, host + ".keys"), host);
            Assert.Equal(2, keyring.Peers.Count);
            // Its own key seals the ownership records it writes; no peer holds it.
            Assert.Equal(Line(dir, host, host)[(host.Length + 1)..], Convert.ToHexStringLower(keyring.OwnKey!));
            Assert.DoesNotContain(keyring.Peers, peer => Line(dir, peer, host) == $"{host}:{Convert.ToHexStringLower(keyring.OwnKey!)}");
        }
    }

    /// <summary>Defense: one key for the whole cluster is used only when the operator says so (issue 14, hole 2).</summary>
    [Fact]
    public async Task SharedPskWithoutTheFlag_IsRefusedSayingEveryHolderCanImpersonateEveryHost()
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "psk", "--out", _work.File("cluster.psk"))).ExitCode);

        (int exit, string output) = await Secmig.RunAsync("tunnel", "connect", "--listen", "127.0.0.1:0", "--connect", "127.0.0.1:1",
            "--peer-name", "dst.test",
            "--psk-file", _work.File("cluster.psk"), "--psk-identity", "cluster");

        Assert.Equal(2, exit);
        Assert.Contains("every holder can impersonate every host", output, StringComparison.Ordinal);
        Assert.Contains("--shared-psk", output, StringComparison.Ordinal);
    }

    /// <summary>Defense (issue 14, hole 7): a key file is created exclusively, mode 0600; an existing key or a planted symlink is never
    /// written through.</summary>
    [Fact]
    public async Task Issue_WhereAKeyOrASymlinkAlreadyIs_RefusesAndWritesNothingThrough()
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "init", "--out", _work.File("ca"))).ExitCode);
        Assert.Equal(0, (await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "a.test", "--out",
            _work.File("a"))).ExitCode);
        string firstKey = await File.ReadAllTextAsync(_work.File("a/key.pem"));
        Directory.CreateDirectory(_work.File("b"));
        File.CreateSymbolicLink(_work.File("b/key.pem"), _work.File("victim"));

        (int again, string againOutput) = await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "a.test", "--out",
            _work.File("a"));
        (int planted, _) = await Secmig.RunAsync("pki", "issue", "--ca", _work.File("ca"), "--name", "b.test", "--out", _work.File("b"));

        Assert.Equal(2, again);
        Assert.Contains("never overwritten", againOutput, StringComparison.Ordinal);
        Assert.Equal(firstKey, await File.ReadAllTextAsync(_work.File("a/key.pem")));
        Assert.Equal(2, planted);
        Assert.False(File.Exists(_work.File("victim")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_work.File("a/key.pem")));
    }

    private static string Line(string directory, string host, string peer) =>
        File.ReadAllLines(Path.Combine(directory, host + ".keys")).Single(l => l.StartsWith(peer + ":", StringComparison.Ordinal));
}
