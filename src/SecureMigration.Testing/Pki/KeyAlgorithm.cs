namespace SecureMigration.Testing.Pki;

/// <summary>The key types the built-in CA issues.</summary>
public enum KeyAlgorithm
{
    /// <summary>ECDSA on NIST P-256 (the default).</summary>
    EcdsaP256,

    /// <summary>ECDSA on NIST P-384.</summary>
    EcdsaP384,

    /// <summary>RSA with a 2048-bit modulus (for peers that require RSA).</summary>
    Rsa2048,
}
