using Org.BouncyCastle.Security.Certificates;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// A certificate revocation list (RFC 5280 §5) of a CA in the trusted bundle, as <c>openssl ca -gencrl</c> writes it
/// (QEMU's <c>ca-crl.pem</c>). Its signature and dates are checked at each handshake, on the channel's clock.
/// </summary>
public sealed class CertificateRevocationList
{
    private const int MaxFileBytes = 64 * 1024 * 1024;

    private CertificateRevocationList(X509Crl crl, string source)
    {
        Crl = crl;
        Source = source;
    }

    /// <summary>Gets the distinguished name of the CA that issued the list.</summary>
    public string Issuer => Crl.IssuerDN.ToString();

    /// <summary>Gets the file or input the list was read from, for messages.</summary>
    public string Source { get; }

    internal X509Crl Crl { get; }

    /// <summary>Reads every CRL in a file: PEM (one or more <c>X509 CRL</c> blocks) or DER.</summary>
    /// <param name="path">The CRL file.</param>
    /// <returns>The lists in the file, at least one.</returns>
    /// <exception cref="InvalidCredentialsException">The file is missing, unreadable, too large, or holds no CRL.</exception>
    public static IReadOnlyList<CertificateRevocationList> FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] data;
        try
        {
            if (new FileInfo(path).Length > MaxFileBytes)
            {
                throw new InvalidCredentialsException(path, $"'{path}' is larger than {MaxFileBytes / (1024 * 1024)} MiB; it is not a " +
                    $"CRL file.");
            }

            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCredentialsException(path, $"Cannot read the CRL file '{path}': {e.Message} Check the path and the file's " +
                $"permissions.", e);
        }

        return Parse(data, path);
    }

    /// <summary>Reads every CRL in PEM or DER bytes.</summary>
    /// <param name="data">The encoded lists.</param>
    /// <returns>The lists, at least one.</returns>
    /// <exception cref="InvalidCredentialsException">The bytes hold no CRL.</exception>
    public static IReadOnlyList<CertificateRevocationList> Parse(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Parse(data, "the CRL bytes");
    }

    private static List<CertificateRevocationList> Parse(byte[] data, string source)
    {
        List<CertificateRevocationList> lists;
        try
        {
            lists = new X509CrlParser().ReadCrls(data).Select(crl => new CertificateRevocationList(crl, source)).ToList();
        }
        catch (Exception e) when (e is CrlException or IOException or ArgumentException or InvalidCastException or
            InvalidOperationException)
        {
            throw new InvalidCredentialsException(source, $"{source} is not a valid CRL ({e.Message}). Pass the PEM or DER file that " +
                $"'openssl ca -gencrl' wrote.", e);
        }

        if (lists.Count == 0)
        {
            throw new InvalidCredentialsException(source,
                $"{source} contains no CRL (-----BEGIN X509 CRL----- or DER). Pass the file that 'openssl ca -gencrl' wrote.");
        }

        return lists;
    }
}
