using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A throwaway CA with a source and a destination host, shared by the channel tests.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki()
    {
        Ca = CertificateAuthority.Create("SecureMigration Test CA");
        OtherCa = CertificateAuthority.Create("Rogue CA");
        Source = Ca.IssueHost("source.test", [System.Net.IPAddress.Loopback]);
        Destination = Ca.IssueHost("destination.test", [System.Net.IPAddress.Loopback]);
    }

    public CertificateAuthority Ca { get; }

    public CertificateAuthority OtherCa { get; }

    public IssuedCredential Source { get; }

    public IssuedCredential Destination { get; }

    public X509ChannelCredentials Credentials(IssuedCredential host, CertificateAuthority? trust = null) =>
        X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, (trust ?? Ca).CertificatePem);

    public void Dispose()
    {
        Ca.Dispose();
        OtherCa.Dispose();
    }
}
