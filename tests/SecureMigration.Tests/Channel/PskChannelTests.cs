using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

public sealed class PskChannelTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    private static SecureChannelFactory Factory(string identity, byte[] key, string localIdentity) =>
        new(new SecureChannelOptions { Credentials = new PskChannelCredentials(identity, key), LocalIdentity = localIdentity });

    private static Task<(ChannelHarness.Outcome Client, ChannelHarness.Outcome Server)> RunAsync(SecureChannelFactory source,
        SecureChannelFactory destination)
    {
        var pair = new DuplexPair();
        return ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ChannelHarness.Ticket());
    }

    [Fact]
    public async Task ConnectAccept_SamePsk_EstablishesWithPskDheAndSha256Suite()
    {
        var (client, server) = await RunAsync(Factory("cluster-a", Key, "source.test"), Factory("cluster-a", Key, "destination.test"));

        Assert.True(client.Channel is not null, $"client: {client.Error}\nserver: {server.Error}");
        Assert.True(client.Channel!.Peer.IsPsk);
        Assert.Equal("cluster-a", server.Channel!.Peer.Name);
        Assert.Equal("TLS_AES_128_GCM_SHA256", client.Channel.CipherSuite);
    }

    [Fact]
    public async Task ConnectAccept_DifferentKey_RefusesAsPskMismatchOnBothEnds()
    {
        var (client, server) = await RunAsync(Factory("cluster-a", RandomNumberGenerator.GetBytes(32), "source.test"), Factory("cluster-a",
            Key, "destination.test"));

        Assert.Equal(HandshakeFailureReason.PskMismatch, server.Reason);
        Assert.Equal(HandshakeFailureReason.PskMismatch, client.Reason);
    }

    [Fact]
    public async Task ConnectAccept_DifferentIdentity_RefusesAsPskMismatch()
    {
        var (client, server) = await RunAsync(Factory("cluster-b", Key, "source.test"), Factory("cluster-a", Key, "destination.test"));

        Assert.Equal(HandshakeFailureReason.PskMismatch, server.Reason);
        Assert.Equal(HandshakeFailureReason.PskMismatch, client.Reason);
    }

    [Fact]
    public void Create_ShortKey_ThrowsWithTheLengthAndTheFix()
    {
        InvalidCredentialsException error = Assert.Throws<InvalidCredentialsException>(() => new PskChannelCredentials("cluster-a",
            new byte[31]));

        Assert.Contains("31 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("secmig pki psk", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromHexFile_NotHex_ThrowsNamingTheFile()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "not hex at all");
        try
        {
            InvalidCredentialsException error = Assert.Throws<InvalidCredentialsException>(() => PskChannelCredentials.FromHexFile(path,
                "id"));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Dispose_ZeroesTheKeyBytesAndRefusesFurtherUse()
    {
        var credentials = new PskChannelCredentials("cluster-a", Key);
        // Key is a view of the credentials' own copy of the key, so it shows what Dispose leaves in that memory.
        ReadOnlySpan<byte> held = credentials.Key;
        Assert.True(held.SequenceEqual(Key));

        credentials.Dispose();

        Assert.False(held.ContainsAnyExcept((byte)0), "the key bytes survived Dispose");
        Assert.Throws<ObjectDisposedException>(() => credentials.Key.ToArray());
    }
}
