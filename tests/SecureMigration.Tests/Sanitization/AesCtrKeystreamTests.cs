using CsCheck;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

public sealed class AesCtrKeystreamTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private const ulong Nonce = 0x0102030405060708;

    [Fact]
    public void Generate_AnyOffsetAndLength_IsTheSliceOfTheWholeStream()
    {
        using var keystream = new AesCtrKeystream(Key, Nonce);
        byte[] whole = new byte[256 * 1024];
        keystream.Generate(0, whole);

        Gen.Select(Gen.Int[0, whole.Length - 1], Gen.Int[0, 70_000]).Sample((offset, length) =>
        {
            length = Math.Min(length, whole.Length - offset);
            byte[] part = new byte[length];
            keystream.Generate(offset, part);
            Assert.Equal(whole.AsSpan(offset, length).ToArray(), part);
        }, iter: 300, threads: 1); // one keystream is not shared between threads (it documents so)
    }

    [Fact]
    public void Generate_OpenSslAndManagedImplementations_AgreeByteForByte()
    {
        Assert.True(new AesCtrKeystream(Key, Nonce).UsesOpenSsl, "libcrypto.so.3 is on every supported Linux; the fast path must be in " +
            "use");
        using var openSsl = new AesCtrKeystream(Key, Nonce, useOpenSsl: true);
        using var managed = new AesCtrKeystream(Key, Nonce, useOpenSsl: false);
        byte[] a = new byte[100_003];
        byte[] b = new byte[100_003];

        openSsl.Generate(12_345, a);
        managed.Generate(12_345, b);

        Assert.Equal(a, b);
    }

    [RequiresProgramFact("openssl")]
    public async Task Generate_MatchesTheOpenSslCommandLineEncryptingZeros()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("zeros"), new byte[4096]);
        string iv = Convert.ToHexString([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);

        await using (ExternalProcess openssl = ExternalProcess.Start("openssl", "enc", "-aes-256-ctr", "-K", Convert.ToHexString(Key),
            "-iv", iv,
            "-in", dir.File("zeros"), "-out", dir.File("stream")))
        {
            Assert.Equal(0, await openssl.WaitForExitAsync());
        }

        using var keystream = new AesCtrKeystream(Key, Nonce);
        byte[] ours = new byte[4096];
        keystream.Generate(0, ours);
        Assert.Equal(File.ReadAllBytes(dir.File("stream")), ours);
    }

    [Fact]
    public void Dispose_ThenGenerate_Throws()
    {
        var keystream = new AesCtrKeystream();
        keystream.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keystream.Generate(0, new byte[16]));
    }
}
