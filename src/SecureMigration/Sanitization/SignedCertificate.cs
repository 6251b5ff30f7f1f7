namespace SecureMigration.Sanitization;

/// <summary>The envelope a signed certificate travels in: the certificate as JSON text, and a signature over it.</summary>
/// <param name="Format">The envelope's format name and version.</param>
/// <param name="Payload">The certificate, as JSON text (signed exactly as written).</param>
/// <param name="SignatureAlgorithm">The signature algorithm.</param>
/// <param name="SignerCertificate">The signer's X.509 certificate (PEM).</param>
/// <param name="Signature">The signature (base64).</param>
internal sealed record SignedCertificate(string Format, string Payload, string SignatureAlgorithm, string SignerCertificate, string Signature);
