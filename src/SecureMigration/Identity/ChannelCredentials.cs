namespace SecureMigration.Identity;

/// <summary>
/// How this end proves who it is and decides whom it trusts: <see cref="X509ChannelCredentials"/> or
/// <see cref="PskChannelCredentials"/>.
/// </summary>
public abstract class ChannelCredentials
{
    private protected ChannelCredentials()
    {
    }

    /// <summary>Gets the identity this end claims (the certificate's first DNS name, or the PSK identity).</summary>
    public abstract string LocalIdentity { get; }
}
