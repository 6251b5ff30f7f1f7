using System.Globalization;
using System.Net;
using SecureMigration.Etcd;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>A three-member etcd cluster with client and peer TLS on loopback, for the benchmarks that need one.</summary>
internal static class BenchEtcd
{
    /// <summary>Starts the members (added to <paramref name="members"/>) and returns the registry connection string.</summary>
    public static async Task<string> StartAsync(CertificateAuthority ca, string directory, List<BackgroundProcess> members)
    {
        File.WriteAllText(Path.Combine(directory, "ca.pem"), ca.CertificatePem);
        int[] clientPorts = [.. Enumerable.Range(0, 3).Select(_ => FreePort())], peerPorts = [.. Enumerable.Range(0, 3).Select(_ =>
            FreePort())];
        string Url(int port) => "https://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        string cluster = string.Join(',', Enumerable.Range(0, 3).Select(m => $"m{m}={Url(peerPorts[m])}"));
        var starting = new List<Task<(BackgroundProcess Process, string ReadyLine)>>();
        for (int m = 0; m < 3; m++)
        {
            IssuedCredential member = ca.IssueHost($"m{m}.bench", [IPAddress.Loopback]);
            string cert = Path.Combine(directory, $"m{m}.pem"), key = Path.Combine(directory, $"m{m}.key");
            File.WriteAllText(cert, member.CertificatePem);
            File.WriteAllText(key, member.PrivateKeyPem);
            string trusted = Path.Combine(directory, "ca.pem");
            starting.Add(BackgroundProcess.StartAsync("etcd",
            [
                "--name", $"m{m}", "--data-dir", Path.Combine(directory, $"data{m}"), "--listen-client-urls", Url(clientPorts[m]),
                "--advertise-client-urls", Url(clientPorts[m]), "--listen-peer-urls", Url(peerPorts[m]),
                "--initial-advertise-peer-urls", Url(peerPorts[m]), "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--client-cert-auth", "--trusted-ca-file", trusted, "--cert-file", cert, "--key-file", key,
                "--peer-client-cert-auth", "--peer-trusted-ca-file", trusted, "--peer-cert-file", cert, "--peer-key-file", key,
                "--logger", "zap", "--log-outputs", "stderr",
            ], "serving client traffic"));
        }

        foreach (var started in starting)
        {
            members.Add((await started).Process);
        }

        return EtcdRegistryOptions.Scheme + string.Join(',', clientPorts.Select(p =>
            "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Credentials for a host, from the cluster's CA.</summary>
    public static X509ChannelCredentials Credentials(CertificateAuthority ca, string host)
    {
        IssuedCredential issued = ca.IssueHost(host);
        return X509ChannelCredentials.FromPem(issued.CertificatePem, issued.PrivateKeyPem, ca.CertificatePem);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The CPU the members used so far.</summary>
    public static TimeSpan Cpu(List<BackgroundProcess> members) => members.Aggregate(TimeSpan.Zero, (sum, m) => sum + m.ProcessorTime);
}
