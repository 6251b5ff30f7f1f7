namespace SecureMigration.Identity;

/// <summary>
/// A certificate chain failed validation. Identity code stays below the channel (docs/architecture.md), so the validator
/// throws this and the channel turns it into a handshake failure with the same message.
/// </summary>
internal sealed class CertificateRefusedException : Exception
{
    public CertificateRefusedException(CertificateRefusal reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public CertificateRefusal Reason { get; }
}
