using System.Text.Json.Nodes;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// (d) QEMU's native TLS migration: a <c>tls-creds-x509</c> object on each end (GnuTLS), peers verified both ways,
/// the destination's name checked through <c>tls-hostname</c>; same CA and host keys as the other paths.
/// </summary>
internal sealed class QemuTlsPath : DirectQemuPath
{
    private string _server = string.Empty;
    private string _client = string.Empty;

    public override string Name => "(d) QEMU tls-creds-x509";

    public override string Key => "qtls";

    public override async Task StartAsync(MigrationBenchmarkContext context)
    {
        await base.StartAsync(context);
        _server = WriteCredentials(context, "server", BenchmarkPki.Destination);
        _client = WriteCredentials(context, "client", BenchmarkPki.Source);
    }

    public override async Task PrepareAsync(MigrationHosts hosts)
    {
        await AddCredentialsAsync(hosts.DestinationQmp, "server", _server);
        await AddCredentialsAsync(hosts.SourceQmp, "client", _client);
        await hosts.DestinationQmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["tls-creds"] = "tls0" });
        await hosts.SourceQmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["tls-creds"] = "tls0",
            ["tls-hostname"] = BenchmarkPki.DestinationName });
        await base.PrepareAsync(hosts);
    }

    /// <summary>Lays out a credentials directory the way QEMU reads it: ca-cert.pem, ROLE-cert.pem, ROLE-key.pem.</summary>
    private static string WriteCredentials(MigrationBenchmarkContext context, string role,
        SecureMigration.Testing.Pki.IssuedCredential host)
    {
        string directory = Path.Combine(context.Directory, "qemu-tls-" + role);
        if (!File.Exists(Path.Combine(directory, role + "-key.pem")))
        {
            host.WriteTo(directory, role + "-cert.pem", role + "-key.pem");
        }

        File.WriteAllText(Path.Combine(directory, "ca-cert.pem"), BenchmarkPki.CaPem);
        return directory;
    }

    private static Task AddCredentialsAsync(SecureMigration.Qemu.Qmp.QmpClient qmp, string endpoint, string directory) =>
        qmp.ExecuteAsync("object-add", new JsonObject
        {
            ["qom-type"] = "tls-creds-x509",
            ["id"] = "tls0",
            ["dir"] = directory,
            ["endpoint"] = endpoint,
            ["verify-peer"] = true,
        });
}
