using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>
/// CRLs made by <c>openssl ca -gencrl</c> for the test CA: a revoked source is refused in the handshake, and a CRL that
/// cannot be believed (expired, not yet valid, forged, missing) refuses every peer rather than none.
/// </summary>
public sealed class RevocationCheckerTests(TestPki pki) : IClassFixture<TestPki>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private OpenSslCa TestCa()
    {
        IssuedCredential ca = pki.Ca.Export();
        return OpenSslCa.FromPem(_files.Path, "test-ca", ca.CertificatePem, ca.PrivateKeyPem);
    }

    /// <summary>Runs a handshake of the test PKI's source and destination; the destination checks <paramref name="crlPaths"/>.</summary>
    private async Task<(ChannelHarness.Outcome Client, ChannelHarness.Outcome Server)> HandshakeAsync(TimeProvider time,
        IssuedCredential? source = null,
        params string[] crlPaths)
    {
        SecureChannelOptions destination = ChannelHarness.Options(pki.Credentials(pki.Destination), time);
        foreach (string path in crlPaths)
        {
            foreach (CertificateRevocationList list in CertificateRevocationList.FromFile(path))
            {
                destination.PeerPolicy.RevocationLists.Add(list);
            }
        }

        var pair = new DuplexPair();
        return await ChannelHarness.RunAsync(new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(source ?? pki.Source), time)),
            new SecureChannelFactory(destination), pair.Client, pair.Server, ChannelHarness.Ticket(time));
    }

    private string WriteSourceCertificate(IssuedCredential source)
    {
        string path = _files.File($"source-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, source.CertificatePem);
        return path;
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_CurrentCrlWithoutThePeer_Succeeds()
    {
        OpenSslCa ca = TestCa();
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);

        var (client, server) = await HandshakeAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), null, crl);

        Assert.NotNull(client.Channel);
        Assert.Equal("source.test", server.Channel?.Peer.Name);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_PeerRevokedInPemCrl_RefusesAsRevoked()
    {
        OpenSslCa ca = TestCa();
        IssuedCredential revoked = pki.Ca.IssueHost("source.test");
        ca.Revoke(WriteSourceCertificate(revoked));
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);

        var (client, server) = await HandshakeAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), revoked, crl);

        Assert.Equal(HandshakeFailureReason.Revoked, server.Reason);
        Assert.Contains("was revoked", server.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(HandshakeFailureReason.RefusedByPeer, client.Reason);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_PeerRevokedInDerCrl_RefusesAsRevoked()
    {
        OpenSslCa ca = TestCa();
        IssuedCredential revoked = pki.Ca.IssueHost("source.test");
        ca.Revoke(WriteSourceCertificate(revoked));
        string crl = ca.GenerateCrl("ca-crl.der", hours: 24, der: true);

        var (_, server) = await HandshakeAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), revoked, crl);

        Assert.Equal(HandshakeFailureReason.Revoked, server.Reason);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_RevokedIntermediate_RefusesAsRevoked()
    {
        // root → intermediate → leaf, all openssl; the root's CRL revokes the intermediate, the intermediate's CRL is clean.
        OpenSslCa root = OpenSslCa.CreateRoot(_files.Path, "crl-root");
        OpenSslCa intermediate = root.IssueIntermediate("crl-intermediate");
        string leaf = intermediate.IssueHost("source.test");
        root.Revoke(_files.File("crl-intermediate.pem"));
        string rootCrl = root.GenerateCrl("root-crl.pem", hours: 24);
        string intermediateCrl = intermediate.GenerateCrl("intermediate-crl.pem", hours: 24);
        var policy = new PeerPolicy();
        policy.RevocationLists.Add(CertificateRevocationList.FromFile(rootCrl)[0]);
        policy.RevocationLists.Add(CertificateRevocationList.FromFile(intermediateCrl)[0]);

        CertificateRefusedException refusal = Assert.Throws<CertificateRefusedException>(() => CertificateChainValidator.Validate(
            [OpenSslChains.Read(leaf), OpenSslChains.Read(intermediate.CertificatePath)], [OpenSslChains.Read(root.CertificatePath)],
                policy,
            peerIsServer: false, DateTimeOffset.UtcNow));

        Assert.Equal(CertificateRefusal.Revoked, refusal.Reason);
        Assert.Contains("crl-intermediate", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_CrlPastItsNextUpdate_RefusesAsRevocationUnknown()
    {
        OpenSslCa ca = TestCa();
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 1);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        time.Advance(TimeSpan.FromHours(2));

        var (_, server) = await HandshakeAsync(time, null, crl);

        Assert.Equal(HandshakeFailureReason.RevocationUnknown, server.Reason);
        Assert.Contains("expired at", server.Error!.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_CrlNotYetValid_RefusesAsRevocationUnknown()
    {
        OpenSslCa ca = TestCa();
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-30));

        var (_, server) = await HandshakeAsync(time, null, crl);

        Assert.Equal(HandshakeFailureReason.RevocationUnknown, server.Reason);
        Assert.Contains("not valid until", server.Error!.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_CrlSignedByAnotherKeyUnderTheSameName_RefusesAsRevocationUnknown()
    {
        // A forged CRL: another CA with the test CA's very name, which would otherwise "un-revoke" whatever it likes.
        OpenSslCa forger = OpenSslCa.CreateRoot(_files.Path, "forger", commonName: "SecureMigration Test CA");
        string crl = forger.GenerateCrl("forged-crl.pem", hours: 24);

        var (_, server) = await HandshakeAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), null, crl);

        Assert.Equal(HandshakeFailureReason.RevocationUnknown, server.Reason);
        Assert.Contains("not signed by that CA's key", server.Error!.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_OnlyACrlOfAnotherCa_RefusesAsRevocationUnknown()
    {
        OpenSslCa other = OpenSslCa.CreateRoot(_files.Path, "other-ca");
        string crl = other.GenerateCrl("other-crl.pem", hours: 24);

        var (_, server) = await HandshakeAsync(new FakeTimeProvider(DateTimeOffset.UtcNow), null, crl);

        Assert.Equal(HandshakeFailureReason.RevocationUnknown, server.Reason);
        Assert.Contains("No CRL from the CA", server.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_NotACrl_ThrowsNamingTheFile()
    {
        string path = _files.File("not-a-crl.pem");
        File.WriteAllText(path, pki.Ca.CertificatePem);

        var error = Assert.Throws<InvalidCredentialsException>(() => CertificateRevocationList.FromFile(path));

        Assert.Equal(path, error.Source);
    }

    /// <summary>Defense: the connecting end checks the destination's certificate against its CRLs too (a revoked key must not receive VM
    /// memory).</summary>
    [RequiresProgramFact("openssl")]
    public async Task Connect_DestinationRevoked_IsRefusedAsRevokedBeforeTheTicketLeaves()
    {
        OpenSslCa ca = TestCa();
        string destinationCertificate = _files.File("destination.pem");
        File.WriteAllText(destinationCertificate, pki.Destination.CertificatePem);
        ca.Revoke(destinationCertificate);
        string crl = ca.GenerateCrl("ca-crl.pem", hours: 24);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelOptions source = ChannelHarness.Options(pki.Credentials(pki.Source), time);
        foreach (CertificateRevocationList list in CertificateRevocationList.FromFile(crl))
        {
            source.PeerPolicy.RevocationLists.Add(list);
        }

        var pair = new DuplexPair();
        var (client, server) = await ChannelHarness.RunAsync(new SecureChannelFactory(source),
            new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time)), pair.Client, pair.Server,
                ChannelHarness.Ticket(time));

        Assert.Equal(HandshakeFailureReason.Revoked, client.Reason);
        Assert.Null(server.Channel);
    }
}
