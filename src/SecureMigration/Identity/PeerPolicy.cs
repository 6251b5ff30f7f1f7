
namespace SecureMigration.Identity;

/// <summary>Who this end accepts as its peer, beyond holding a certificate from a trusted CA or the PSK.</summary>
public sealed class PeerPolicy
{
    /// <summary>
    /// Gets or sets the name the peer's certificate must carry (SAN DNS, URI or IP address).
    /// Required on the connecting end; optional on the accepting end.
    /// </summary>
    /// <value>The default is <see langword="null"/>: any name (subject to <see cref="AllowedPeers"/>).</value>
    public string? ExpectedName { get; set; }

    /// <summary>
    /// Gets the identities allowed as peers: certificate names or PSK identities. Empty allows every peer
    /// that authenticates.
    /// </summary>
    /// <value>The default is empty.</value>
    public IList<string> AllowedPeers { get; } = [];

    /// <summary>
    /// Gets the SHA-256 hashes (base64) of the SubjectPublicKeyInfo the peer's certificate must have.
    /// Empty disables pinning.
    /// </summary>
    /// <value>The default is empty.</value>
    public IList<string> SpkiPins { get; } = [];

    /// <summary>
    /// Gets or sets whether a certificate without subject alternative names may match by its subject
    /// common name (RFC 6125 fallback).
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool AllowCommonNameFallback { get; set; } = true;

    /// <summary>
    /// Gets the certificate revocation lists of the trusted CAs (<see cref="CertificateRevocationList.FromFile"/>). When any is
    /// given, every certificate of the peer's chain below the trust anchor must be covered by a current CRL of its issuer,
    /// signed by that issuer, that does not list it; otherwise the handshake is refused (<c>HandshakeFailureReason.Revoked</c>
    /// or <c>HandshakeFailureReason.RevocationUnknown</c>). Ignored for pre-shared keys.
    /// </summary>
    /// <value>The default is empty: revocation is not checked.</value>
    public IList<CertificateRevocationList> RevocationLists { get; } = [];

    /// <summary>Gets or sets the longest certificate chain accepted from a peer.</summary>
    /// <value>The default is 5.</value>
    public int MaxChainLength { get; set; } = 5;

    /// <summary>A copy, lists included, that later changes to this policy do not reach.</summary>
    /// <returns>The copy.</returns>
    internal PeerPolicy Snapshot()
    {
        var copy = new PeerPolicy { ExpectedName = ExpectedName, AllowCommonNameFallback = AllowCommonNameFallback,
            MaxChainLength = MaxChainLength };
        CopyInto(AllowedPeers, copy.AllowedPeers);
        CopyInto(SpkiPins, copy.SpkiPins);
        CopyInto(RevocationLists, copy.RevocationLists);
        return copy;
    }

    private static void CopyInto<T>(IList<T> from, IList<T> to)
    {
        foreach (T item in from)
        {
            to.Add(item);
        }
    }
}
