namespace SecureMigration.Identity;

/// <summary>
/// Something that holds this host's credentials beyond a handshake (it signs ownership records or sanitization certificates with
/// them, or presents them to a service) and takes renewed ones without a restart. Work already under way keeps what it started
/// with.
/// </summary>
public interface ICredentialRotation
{
    /// <summary>Uses <paramref name="credentials"/> from now on; nothing changes when they are refused.</summary>
    /// <param name="credentials">The renewed credentials, of the kind and identity this holder was created with.</param>
    /// <exception cref="ArgumentException">They are of another kind, or cannot serve this holder; the message says why.</exception>
    void RotateCredentials(ChannelCredentials credentials);
}
