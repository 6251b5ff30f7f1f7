using Org.BouncyCastle.X509;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Certificates made once per test class by the real openssl CLI under one root CA: a good host, and hosts and
/// intermediates that each break one rule of certificate validation.
/// </summary>
public sealed class OpenSslChains : IDisposable
{
    private readonly TempDirectory _files = new();

    public OpenSslChains()
    {
        Root = OpenSslCa.CreateRoot(_files.Path, "chains-root", "RSA:2048");
        Good = Root.IssueHost("good.test");
        CaAsLeaf = Root.IssueHost("ca-leaf.test", basicConstraints: "critical,CA:TRUE");
        UnknownCritical = Root.IssueHost("critical.test", extraExtensions: "1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:unknown\n");
        PolicyConstraints = Root.IssueHost("policy.test", extraExtensions: "certificatePolicies=critical,1.3.6.1.4.1.55555.2\n");
        Sha1Signed = Root.IssueHost("sha1.test", digest: "sha1");
        Md5Signed = Root.IssueHost("md5.test", digest: "md5");
        Rsa1024 = Root.IssueHost("rsa1024.test", keyAlgorithm: "RSA:1024");
        EcP192 = Root.IssueHost("p192.test", keyAlgorithm: "EC:prime192v1");
        SanAndOtherCommonName = Root.IssueHost("b.test", subjectAlternativeName: "DNS:a.test");
        NoSan = Root.IssueHost("nosan.test", subjectAlternativeName: string.Empty);
        OpenSslCa weakIntermediate = Root.IssueIntermediate("weak-intermediate", keyAlgorithm: "RSA:1024");
        LeafUnderWeakIntermediate = weakIntermediate.IssueHost("under-weak.test");
        WeakIntermediate = weakIntermediate.CertificatePath;
        OpenSslCa constrained = Root.IssueIntermediate("constrained-intermediate",
            extraExtensions: "nameConstraints=critical,permitted;DNS:.test\n");
        LeafUnderConstrained = constrained.IssueHost("under-constrained.test");
        Constrained = constrained.CertificatePath;
        Now = DateTimeOffset.UtcNow;
    }

    public OpenSslCa Root { get; }

    /// <summary>An instant inside every certificate's validity.</summary>
    public DateTimeOffset Now { get; }

    public string Good { get; }

    public string CaAsLeaf { get; }

    public string UnknownCritical { get; }

    public string PolicyConstraints { get; }

    public string Sha1Signed { get; }

    public string Md5Signed { get; }

    public string Rsa1024 { get; }

    public string EcP192 { get; }

    public string SanAndOtherCommonName { get; }

    public string NoSan { get; }

    public string WeakIntermediate { get; }

    public string LeafUnderWeakIntermediate { get; }

    public string Constrained { get; }

    public string LeafUnderConstrained { get; }

    public string Directory => _files.Path;

    public static X509Certificate Read(string path) => new X509CertificateParser().ReadCertificate(File.ReadAllBytes(path));

    public void Dispose() => _files.Dispose();
}
