using CsCheck;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

public sealed class AesCtrKeystreamTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, AesCtrKeystream.KeyLength).Select(i => (byte)i)];
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
    public void New_UsesAes128WithAFreshKey()
    {
        using var keystream = new AesCtrKeystream();

        Assert.Equal("AES-128-CTR", keystream.CipherName);
        Assert.Equal(AesCtrKeystream.KeyLength, keystream.ExportKey().Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    [InlineData(31)]
    public void New_KeyOfAnotherLength_IsRefused(int length)
    {
        var refused = Assert.Throws<ArgumentException>(() => new AesCtrKeystream(new byte[length], Nonce));

        Assert.Contains($"{length} bytes were given", refused.Message);
    }

    [Theory]
    [InlineData(AesCtrKeystream.KeyLength)]
    [InlineData(AesCtrKeystream.LegacyKeyLength)]
    public void Generate_OpenSslAndManagedImplementations_AgreeByteForByte(int keyLength)
    {
        byte[] key = KeyOf(keyLength);
        Assert.True(new AesCtrKeystream(key, Nonce).UsesOpenSsl, "libcrypto.so.3 is on every supported Linux; the fast path must be in " +
            "use");
        using var openSsl = new AesCtrKeystream(key, Nonce, useOpenSsl: true);
        using var managed = new AesCtrKeystream(key, Nonce, useOpenSsl: false);
        byte[] a = new byte[100_003];
        byte[] b = new byte[100_003];

        openSsl.Generate(12_345, a);
        managed.Generate(12_345, b);

        Assert.Equal(a, b);
    }

    [RequiresProgramTheory("openssl")]
    [InlineData(AesCtrKeystream.KeyLength, "-aes-128-ctr", "AES-128-CTR")]
    [InlineData(AesCtrKeystream.LegacyKeyLength, "-aes-256-ctr", "AES-256-CTR")] // a key resumed from an older checkpoint
    public async Task Generate_MatchesTheOpenSslCommandLineEncryptingZeros(int keyLength, string cipher, string name)
    {
        byte[] key = KeyOf(keyLength);
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("zeros"), new byte[4096]);
        string iv = Convert.ToHexString([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);

        await using (ExternalProcess openssl = ExternalProcess.Start("openssl", "enc", cipher, "-K", Convert.ToHexString(key),
            "-iv", iv,
            "-in", dir.File("zeros"), "-out", dir.File("stream")))
        {
            Assert.Equal(0, await openssl.WaitForExitAsync());
        }

        using var keystream = new AesCtrKeystream(key, Nonce);
        byte[] ours = new byte[4096];
        keystream.Generate(0, ours);
        Assert.Equal(File.ReadAllBytes(dir.File("stream")), ours);
        Assert.Equal(name, keystream.CipherName);
    }

    [Fact]
    public void Dispose_ThenGenerate_Throws()
    {
        var keystream = new AesCtrKeystream();
        keystream.Dispose();

        Assert.Throws<ObjectDisposedException>(() => keystream.Generate(0, new byte[16]));
    }

    private static byte[] KeyOf(int length) => [.. Enumerable.Range(1, length).Select(i => (byte)i)];
}
