using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Identity;

/// <summary>A peer holding a certificate from the trusted CA still gains nothing unless every certificate in its path is sound.</summary>
public sealed class CertificateChainValidatorTests(OpenSslChains chains) : IClassFixture<OpenSslChains>
{
    private PeerIdentity Validate(PeerPolicy? policy = null, params string[] presented) =>
        CertificateChainValidator.Validate(presented.Select(OpenSslChains.Read).ToList(), [OpenSslChains.Read(chains.Root.CertificatePath)],
            policy ?? new PeerPolicy(), peerIsServer: true, chains.Now);

    private CertificateRefusedException Refusal(PeerPolicy? policy = null, params string[] presented) =>
        Assert.Throws<CertificateRefusedException>(() => Validate(policy, presented));

    [RequiresProgramFact("openssl")]
    public void Validate_WellFormedLeaf_ReturnsItsSanAsIdentity()
    {
        PeerIdentity peer = Validate(null, chains.Good);

        Assert.Equal("good.test", peer.Name);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_CaCertificateAsLeaf_RefusesAsKeyUsage()
    {
        CertificateRefusedException refusal = Refusal(null, chains.CaAsLeaf);

        Assert.Equal(CertificateRefusal.KeyUsage, refusal.Reason);
        Assert.Contains("CA:TRUE", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_UnknownCriticalExtension_RefusesAsUnsupportedExtension()
    {
        CertificateRefusedException refusal = Refusal(null, chains.UnknownCritical);

        Assert.Equal(CertificateRefusal.UnsupportedExtension, refusal.Reason);
        Assert.Contains("1.3.6.1.4.1.55555.1", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_CriticalCertificatePolicies_RefusesAsUnsupportedExtension()
    {
        CertificateRefusedException refusal = Refusal(null, chains.PolicyConstraints);

        Assert.Equal(CertificateRefusal.UnsupportedExtension, refusal.Reason);
        Assert.Contains("2.5.29.32", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_IntermediateWithNameConstraints_RefusesAsUnsupportedExtension()
    {
        CertificateRefusedException refusal = Refusal(null, chains.LeafUnderConstrained, chains.Constrained);

        Assert.Equal(CertificateRefusal.UnsupportedExtension, refusal.Reason);
        Assert.Contains("constrained-intermediate", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_Sha1SignedLeaf_RefusesAsWeakAlgorithm()
    {
        CertificateRefusedException refusal = Refusal(null, chains.Sha1Signed);

        Assert.Equal(CertificateRefusal.WeakAlgorithm, refusal.Reason);
        Assert.Contains("SHA-1", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_Md5SignedLeaf_RefusesAsWeakAlgorithm()
    {
        Assert.Equal(CertificateRefusal.WeakAlgorithm, Refusal(null, chains.Md5Signed).Reason);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_Rsa1024Leaf_RefusesAsWeakAlgorithm()
    {
        CertificateRefusedException refusal = Refusal(null, chains.Rsa1024);

        Assert.Equal(CertificateRefusal.WeakAlgorithm, refusal.Reason);
        Assert.Contains("1024-bit RSA", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_EcP192Leaf_RefusesAsWeakAlgorithm()
    {
        CertificateRefusedException refusal = Refusal(null, chains.EcP192);

        Assert.Equal(CertificateRefusal.WeakAlgorithm, refusal.Reason);
        Assert.Contains("192-bit EC", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_Rsa1024Intermediate_RefusesAsWeakAlgorithm()
    {
        CertificateRefusedException refusal = Refusal(null, chains.LeafUnderWeakIntermediate, chains.WeakIntermediate);

        Assert.Equal(CertificateRefusal.WeakAlgorithm, refusal.Reason);
        Assert.Contains("weak-intermediate", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_ExpectedNameIsOnlyTheCommonNameBesideASan_RefusesAsNameMismatch()
    {
        CertificateRefusedException refusal = Refusal(new PeerPolicy { ExpectedName = "b.test" }, chains.SanAndOtherCommonName);

        Assert.Equal(CertificateRefusal.NameMismatch, refusal.Reason);
        Assert.Contains("CN 'b.test' is not a name", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_AllowListHasOnlyTheCommonNameBesideASan_RefusesAsNotAllowed()
    {
        var policy = new PeerPolicy();
        policy.AllowedPeers.Add("b.test");

        Assert.Equal(CertificateRefusal.NotAllowed, Refusal(policy, chains.SanAndOtherCommonName).Reason);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_SanAndOtherCommonName_IdentityHoldsTheSanOnly()
    {
        PeerIdentity peer = Validate(new PeerPolicy { ExpectedName = "a.test" }, chains.SanAndOtherCommonName);

        Assert.Equal(["a.test"], peer.Names);
    }

    [RequiresProgramFact("openssl")]
    public async Task VerifyAsync_TicketSourceIsTheCommonNameBesideASan_RefusesAsWrongSource()
    {
        PeerIdentity peer = Validate(null, chains.SanAndOtherCommonName);
        var verifier = new TicketVerifier("destination.test", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), new TicketReplayCache(16),
            null, TimeProvider.System);

        (TicketRefusal refusal, _) = await verifier.VerifyAsync(
            MigrationTicket.Create("vm-1", "b.test", "destination.test", 1, TimeSpan.FromMinutes(1)), peer, CancellationToken.None);

        Assert.Equal(TicketRefusal.WrongSource, refusal);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_NoSanAndFallbackOn_MatchesTheCommonName()
    {
        PeerIdentity peer = Validate(new PeerPolicy { ExpectedName = "nosan.test" }, chains.NoSan);

        Assert.Equal(["nosan.test"], peer.Names);
    }

    [RequiresProgramFact("openssl")]
    public void Validate_NoSanAndFallbackOff_RefusesAsNameMismatch()
    {
        var policy = new PeerPolicy { ExpectedName = "nosan.test", AllowCommonNameFallback = false };

        Assert.Equal(CertificateRefusal.NameMismatch, Refusal(policy, chains.NoSan).Reason);
    }
}
