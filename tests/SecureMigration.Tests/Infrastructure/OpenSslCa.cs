namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A CA driven by the real openssl command line, for certificates and CRLs the library's own CA refuses to make:
/// weak digests, small keys, odd extensions, revocations.
/// </summary>
public sealed class OpenSslCa
{
    private readonly string _directory;

    private OpenSslCa(string directory, string name)
    {
        _directory = directory;
        Name = name;
        File.WriteAllText(Path("index.txt"), string.Empty);
        File.WriteAllText(Path("crlnumber"), "01\n");
        File.WriteAllText(Path("ca.cnf"),
            $"[ca]\ndefault_ca = d\n[d]\ndatabase = {Path("index.txt")}\ncrlnumber = {Path("crlnumber")}\ndefault_md = sha256\n");
    }

    public string Name { get; }

    public string CertificatePath => Path($"{Name}.pem");

    public string KeyPath => Path($"{Name}.key");

    /// <summary>Creates a self-signed root CA (SHA-256); an RSA one can also sign with MD5, which ECDSA cannot.</summary>
    public static OpenSslCa CreateRoot(string directory, string name, string keyAlgorithm = "EC:P-256", string? commonName = null)
    {
        var ca = new OpenSslCa(directory, name);
        GenerateKey(keyAlgorithm, ca.KeyPath);
        OpenSsl.Run("req", "-x509", "-new", "-key", ca.KeyPath, "-out", ca.CertificatePath, "-days", "30", "-subj",
            $"/CN={commonName ?? name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return ca;
    }

    /// <summary>Wraps an existing CA's PEM certificate and key (for example the library's own test CA).</summary>
    public static OpenSslCa FromPem(string directory, string name, string certificatePem, string keyPem)
    {
        var ca = new OpenSslCa(directory, name);
        File.WriteAllText(ca.CertificatePath, certificatePem);
        File.WriteAllText(ca.KeyPath, keyPem);
        return ca;
    }

    /// <summary>Issues an intermediate CA from this one.</summary>
    public OpenSslCa IssueIntermediate(string name, string keyAlgorithm = "EC:P-256", string extraExtensions = "")
    {
        var intermediate = new OpenSslCa(_directory, name);
        Issue(name, keyAlgorithm, $"basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n{extraExtensions}");
        return intermediate;
    }

    /// <summary>
    /// Issues a host certificate with CN <paramref name="name"/>; returns its certificate path (the key is next to it, .key).
    /// The SAN defaults to DNS:<paramref name="name"/>; an empty one leaves the SAN extension out.
    /// </summary>
    public string IssueHost(string name, string keyAlgorithm = "EC:P-256", string digest = "sha256", string? subjectAlternativeName = null,
        string extraExtensions = "", string basicConstraints = "CA:FALSE")
    {
        string san = subjectAlternativeName ?? $"DNS:{name}";
        return Issue(name, keyAlgorithm,
            (san.Length > 0 ? $"subjectAltName={san}\n"
                : string.Empty) + "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n" +
            $"basicConstraints={basicConstraints}\n{extraExtensions}", digest);
    }

    /// <summary>Marks a certificate this CA issued as revoked in its database.</summary>
    public void Revoke(string certificatePath) =>
        OpenSsl.Run("ca", "-config", Path("ca.cnf"), "-keyfile", KeyPath, "-cert", CertificatePath, "-revoke", certificatePath);

    /// <summary>Writes a CRL (PEM, or DER) valid from now for <paramref name="hours"/> hours; returns its path.</summary>
    public string GenerateCrl(string fileName, int hours, bool der = false)
    {
        string pem = Path(fileName + ".pem-crl");
        OpenSsl.Run("ca", "-config", Path("ca.cnf"), "-keyfile", KeyPath, "-cert", CertificatePath, "-gencrl", "-crlhours", $"{hours}",
            "-out", pem);
        string path = Path(fileName);
        OpenSsl.Run("crl", "-in", pem, "-outform", der ? "DER" : "PEM", "-out", path);
        return path;
    }

    private string Issue(string name, string keyAlgorithm, string extensions, string digest = "sha256")
    {
        string key = Path($"{name}.key");
        GenerateKey(keyAlgorithm, key);
        OpenSsl.Run("req", "-new", "-key", key, "-out", Path($"{name}.csr"), "-subj", $"/CN={name}");
        File.WriteAllText(Path($"{name}.ext"), extensions);
        OpenSsl.Run("x509", "-req", "-in", Path($"{name}.csr"), "-CA", CertificatePath, "-CAkey", KeyPath, "-CAcreateserial",
            $"-{digest}", "-out", Path($"{name}.pem"), "-days", "10", "-extfile", Path($"{name}.ext"));
        return Path($"{name}.pem");
    }

    private static void GenerateKey(string algorithm, string path)
    {
        string[] parts = algorithm.Split(':');
        OpenSsl.Run(parts[0] switch
        {
            "EC" => ["genpkey", "-algorithm", "EC", "-pkeyopt", $"ec_paramgen_curve:{parts[1]}", "-out", path],
            "RSA" => ["genpkey", "-algorithm", "RSA", "-pkeyopt", $"rsa_keygen_bits:{parts[1]}", "-out", path],
            _ => ["genpkey", "-algorithm", parts[0], "-out", path],
        });
    }

    private string Path(string name) => System.IO.Path.Combine(_directory, name);
}
