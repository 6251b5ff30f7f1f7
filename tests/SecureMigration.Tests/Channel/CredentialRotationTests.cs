using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>Renewed credentials and peer policy without a restart (issue 19): new handshakes take them, established channels keep their
/// session, and a change that would make this end another host or serve more peers is refused with the current credentials kept.</summary>
public sealed class CredentialRotationTests(TestPki pki) : IClassFixture<TestPki>
{
    private static SecureChannelFactory Factory(X509ChannelCredentials credentials, params string[] allowedPeers)
    {
        SecureChannelOptions options = ChannelHarness.Options(credentials);
        foreach (string peer in allowedPeers)
        {
            options.PeerPolicy.AllowedPeers.Add(peer);
        }

        return new SecureChannelFactory(options);
    }

    private static PeerPolicy Allowing(params string[] peers)
    {
        var policy = new PeerPolicy();
        foreach (string peer in peers)
        {
            policy.AllowedPeers.Add(peer);
        }

        return policy;
    }

    private static async Task<ChannelHarness.Outcome> HandshakeAsync(SecureChannelFactory source, SecureChannelFactory destination)
    {
        var pair = new DuplexPair();
        (ChannelHarness.Outcome client, ChannelHarness.Outcome server) =
            await ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ChannelHarness.Ticket());
        if (server.Channel is { } accepted)
        {
            await accepted.DisposeAsync();
        }

        return client;
    }

    [Fact]
    public async Task Rotate_NewHandshakesPresentTheRenewedKey_WhileAnEstablishedChannelKeepsItsSession()
    {
        SecureChannelFactory source = Factory(pki.Credentials(pki.Source));
        SecureChannelFactory destination = Factory(pki.Credentials(pki.Destination), "source.test");
        await using LoopbackTcp tcp = await LoopbackTcp.ConnectAsync();
        Task<SecureChannel> accepting = destination.AcceptAsync(tcp.Server);
        await using SecureChannel before = await source.ConnectAsync(tcp.Client, ChannelHarness.Ticket());
        await using SecureChannel accepted = await accepting;
        X509ChannelCredentials renewed = pki.Credentials(pki.Ca.IssueHost("destination.test"));

        destination.Rotate(renewed, Allowing("source.test"));
        ChannelHarness.Outcome after = await HandshakeAsync(source, destination);
        byte[] payload = RandomNumberGenerator.GetBytes(300_000);
        Task<byte[]> receiving = SecureChannelTests.ReadToEndAsync(accepted.Input);
        await before.Output.WriteAsync(payload);
        await before.Output.CompleteAsync();

        Assert.Equal(renewed.SpkiSha256, after.Channel!.Peer.SpkiSha256);
        Assert.NotEqual(renewed.SpkiSha256, before.Peer.SpkiSha256);
        Assert.Same(renewed, destination.Credentials);
        Assert.Equal(payload, await receiving);
        await after.Channel.DisposeAsync();
    }

    [Fact]
    public async Task Rotate_AllowListChanged_RefusesAPeerItNoLongerNames()
    {
        SecureChannelFactory source = Factory(pki.Credentials(pki.Source));
        SecureChannelFactory destination = Factory(pki.Credentials(pki.Destination), "source.test");
        ChannelHarness.Outcome allowed = await HandshakeAsync(source, destination);

        destination.Rotate(pki.Credentials(pki.Destination), Allowing("other.test"));
        ChannelHarness.Outcome refused = await HandshakeAsync(source, destination);

        Assert.NotNull(allowed.Channel);
        await allowed.Channel.DisposeAsync();
        Assert.Null(refused.Channel);
    }

    [Fact]
    public async Task Rotate_CredentialsOfAnotherHost_AreRefused_AndTheCurrentOnesStay()
    {
        SecureChannelFactory source = Factory(pki.Credentials(pki.Source));
        X509ChannelCredentials current = pki.Credentials(pki.Destination);
        SecureChannelFactory destination = Factory(current, "source.test");

        var refusal = Assert.Throws<ArgumentException>(() => destination.Rotate(pki.Credentials(pki.Source), Allowing("source.test")));
        ChannelHarness.Outcome after = await HandshakeAsync(source, destination);

        Assert.Contains("'source.test', but it is 'destination.test'", refusal.Message, StringComparison.Ordinal);
        Assert.Same(current, destination.Credentials);
        Assert.Equal(current.SpkiSha256, after.Channel!.Peer.SpkiSha256);
        await after.Channel.DisposeAsync();
    }

    [Fact]
    public void Rotate_PolicyThatWouldServeEveryPeerOfTheCa_IsRefused()
    {
        SecureChannelFactory destination = Factory(pki.Credentials(pki.Destination), "source.test");

        var refusal = Assert.Throws<ArgumentException>(() => destination.Rotate(pki.Credentials(pki.Destination), new PeerPolicy()));

        Assert.Contains("every peer the CA vouches for", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rotate_PreSharedKeyInPlaceOfCertificates_IsRefused()
    {
        SecureChannelFactory destination = Factory(pki.Credentials(pki.Destination));

        var refusal = Assert.Throws<ArgumentException>(() => destination.Rotate(
            new PskChannelCredentials("destination.test", RandomNumberGenerator.GetBytes(32)), new PeerPolicy()));

        Assert.Contains("a change of kind needs a restart", refusal.Message, StringComparison.Ordinal);
    }
}
