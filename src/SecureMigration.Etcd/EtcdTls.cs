using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureMigration.Identity;

namespace SecureMigration.Etcd;

/// <summary>
/// Mutual TLS to etcd with the host's credentials: this host's certificate as the client certificate, and an etcd
/// member accepted only when its certificate chains to the host's CA bundle (nothing else is trusted, not the system's
/// roots), is not a CA certificate, and names one of the configured endpoints exactly (no wildcard), so another host
/// of the cluster, whose certificate the same CA issued for its own name, cannot pose as etcd. When etcd runs on the
/// hypervisor hosts themselves, their names are endpoints too: give etcd members certificates from a CA of their own
/// (<see cref="EtcdRegistryOptions.MemberCaPem"/>), which then replaces the hosts' CA for members.
/// </summary>
internal static class EtcdTls
{
    /// <summary>Configures <paramref name="ssl"/> for <paramref name="options"/>; the certificates it loads are disposed with the
    /// client.</summary>
    /// <param name="ssl">The client's TLS options.</param>
    /// <param name="options">The validated registry options.</param>
    /// <returns>The client certificate with its key and the members' anchors, to dispose when the client is.</returns>
    public static EtcdTlsMaterial Configure(SslClientAuthenticationOptions ssl, EtcdRegistryOptions options)
    {
        X509ChannelCredentials credentials = options.Credentials!;
        X509Certificate2 client = ClientCertificate(credentials);
        X509Certificate2Collection anchors = options.MemberCaPem is { } memberCa ? LoadAnchors(memberCa)
            : [.. credentials.TrustAnchors.Select(a => X509CertificateLoader.LoadCertificate(a.GetEncoded()))];
        string[] names = [.. options.Endpoints.Select(e => e.Host)];
        var material = new EtcdTlsMaterial(client, anchors);
        ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => material.Client;
        ssl.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        ssl.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        ssl.RemoteCertificateValidationCallback = (_, certificate, presented, errors) =>
            certificate is X509Certificate2 member && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 &&
            !IsCa(member) && ChainsTo(member, presented, anchors) && NamesAny(member, names);
        return material;
    }

    /// <summary>The certificates in <paramref name="pem"/> (none when it holds no certificate block).</summary>
    /// <param name="pem">PEM text.</param>
    /// <returns>The certificates, to dispose.</returns>
    public static X509Certificate2Collection LoadAnchors(string pem)
    {
        var anchors = new X509Certificate2Collection();
        try
        {
            anchors.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            anchors.Clear();
        }

        return anchors;
    }

    /// <summary>This host's certificate with its key, as .NET's TLS presents it to etcd.</summary>
    /// <exception cref="InvalidCredentialsException">The key is neither ECDSA nor RSA.</exception>
    public static X509Certificate2 ClientCertificate(X509ChannelCredentials credentials) => credentials.ToDotNetCertificate("etcd's TLS");

    /// <summary>A CA certificate never stands for an etcd member.</summary>
    private static bool IsCa(X509Certificate2 member) =>
        member.Extensions.OfType<X509BasicConstraintsExtension>().Any(constraints => constraints.CertificateAuthority);

    /// <summary>
    /// Builds the member's chain to the host's CA bundle alone, with the intermediates the member presented and
    /// nothing fetched from the network (a certificate's download addresses are the presenter's to choose).
    /// </summary>
    private static bool ChainsTo(X509Certificate2 member, X509Chain? presented, X509Certificate2Collection anchors)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.DisableCertificateDownloads = true;
        foreach (X509ChainElement element in presented?.ChainElements ?? Enumerable.Empty<X509ChainElement>())
        {
            chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        return chain.Build(member);
    }

    private static bool NamesAny(X509Certificate2 member, string[] names) =>
        names.Any(name => member.MatchesHostname(IPAddress.TryParse(name, out IPAddress? ip) ? ip.ToString() : name,
            allowWildcards: false));
}
