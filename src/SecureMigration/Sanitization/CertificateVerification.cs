namespace SecureMigration.Sanitization;

/// <summary>What checking a signed certificate of sanitization found.</summary>
/// <param name="IsValid">Whether the signature holds (and the signer chains to the given CA, when one was given).</param>
/// <param name="Problem">Why not, or <see langword="null"/>.</param>
/// <param name="Certificate">The certificate, when the signature holds.</param>
/// <param name="Signer">The signer's subject.</param>
public sealed record CertificateVerification(bool IsValid, string? Problem, SanitizationCertificate? Certificate, string? Signer);
