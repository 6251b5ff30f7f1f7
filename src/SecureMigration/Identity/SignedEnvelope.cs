namespace SecureMigration.Identity;

/// <summary>
/// What a host signs with its X.509 key (a certificate of sanitization, an ownership record): the payload as JSON text,
/// and a signature over it with the signer's certificate.
/// </summary>
/// <param name="Format">The envelope's format name and version; the signature covers it too.</param>
/// <param name="Payload">The signed JSON text, exactly as signed.</param>
/// <param name="SignatureAlgorithm">The signature algorithm.</param>
/// <param name="SignerCertificate">The signer's X.509 certificate (PEM).</param>
/// <param name="Signature">The signature (base64).</param>
internal sealed record SignedEnvelope(string Format, string Payload, string SignatureAlgorithm, string SignerCertificate, string Signature);
