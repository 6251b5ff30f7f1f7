namespace SecureMigration.Identity;

/// <summary>The authenticated identity of the peer of a secure channel.</summary>
/// <param name="Name">The name the peer was authenticated as: the matched certificate name or the PSK identity.</param>
/// <param name="Names">Every name in the peer's certificate (SANs, then CN), or the PSK identity.</param>
/// <param name="SpkiSha256">The base64 SHA-256 of the peer's SubjectPublicKeyInfo, or <see langword="null"/> for PSK.</param>
public sealed record PeerIdentity(string Name, IReadOnlyList<string> Names, string? SpkiSha256)
{
    /// <summary>Gets whether the peer proved itself with a pre-shared key rather than a certificate.</summary>
    public bool IsPsk => SpkiSha256 is null;

    /// <summary>
    /// Gets whether the peer proved only that it holds the cluster's one shared key (<see cref="PskChannelCredentials"/>):
    /// its host name is then not proven, so a ticket's names cannot be checked against it. A keyring peer
    /// (<see cref="PskKeyringCredentials"/>) or a certificate proves its name.
    /// </summary>
    public bool IsSharedPsk { get; init; }
}
