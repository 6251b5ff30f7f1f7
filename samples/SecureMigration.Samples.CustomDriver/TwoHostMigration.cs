using System.Net;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Samples.CustomDriver;

/// <summary>
/// The whole story with your own driver, on one machine: a throwaway CA, two hosts, a shared ownership registry, one
/// VM migrated over a mutually authenticated TLS 1.3 channel on loopback, and the checks a vendor would make after.
/// </summary>
public static class TwoHostMigration
{
    /// <summary>The VM the example migrates.</summary>
    public const string VmId = "vm1";

    /// <summary>Runs the migration in <paramref name="workDirectory"/>, telling <paramref name="output"/> what happens.</summary>
    /// <returns>Whether every check held: the destination runs the exact image, the source copy is stopped and its image wiped.</returns>
    public static async Task<bool> RunAsync(string workDirectory, TextWriter output, CancellationToken cancellationToken = default)
    {
        // 1. Credentials. In production each host has its own key and certificate from your CA (see 'secmig pki').
        CertificateAuthority ca = CertificateAuthority.Create("Sample CA");
        X509ChannelCredentials Issue(string host)
        {
            IssuedCredential issued = ca.IssueHost(host, [IPAddress.Loopback]);
            return X509ChannelCredentials.FromPem(issued.CertificatePem, issued.PrivateKeyPem, ca.CertificatePem);
        }

        // 2. The ownership registry both hosts reach: it alone decides which host may run the VM.
        var registry = new FileOwnershipRegistry(Path.Combine(workDirectory, "ownership"));
        await using var source = await SampleHost.OpenAsync("source.sample", Path.Combine(workDirectory, "source"), Issue("source.sample"),
            registry);
        await using var destination = await SampleHost.OpenAsync("destination.sample", Path.Combine(workDirectory, "destination"),
            Issue("destination.sample"), registry);

        // 3. A running VM on the source, registered as the source's.
        byte[] memory = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        await source.Driver.CreateVmAsync(VmId, memory, cancellationToken);
        await registry.RegisterAsync(VmId, source.Id, cancellationToken);

        // 4. The destination listens; the source migrates to it.
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), destination.Channels);
        listener.Start();
        Task<MigrationResult> received = destination.ReceiveOneAsync(listener, cancellationToken);
        MigrationResult sent = await source.MigrateAsync(VmId, destination.Id, listener.LocalEndPoint, cancellationToken);
        MigrationResult arrived = await received;
        output.WriteLine($"source:      {sent.Status} {sent.Reason}");
        output.WriteLine($"destination: {arrived.Status} {arrived.Reason}");

        // 5. The checks: exactly one runnable copy, the right bytes, and no readable leftover on the source.
        OwnershipRecord? owner = await registry.GetAsync(VmId, cancellationToken);
        byte[] arrivedImage = File.Exists(destination.Driver.ImagePath(VmId))
            ? await File.ReadAllBytesAsync(destination.Driver.ImagePath(VmId), cancellationToken) : [];
        bool identical = memory.AsSpan().SequenceEqual(arrivedImage);
        var checks = new (string What, bool Held)[]
        {
            ("both ends completed", sent.Status == MigrationStatus.Completed && arrived.Status == MigrationStatus.Completed),
            ("the registry names the destination", owner?.Owner == destination.Id),
            ("the destination runs the VM", destination.Driver.ReadState(VmId) == VmRunState.Running),
            ("the destination's image is the source's, byte for byte", identical),
            ("the source's copy is stopped for good", source.Driver.ReadState(VmId) == VmRunState.Stopped),
            ("the source's image was sanitized away", !File.Exists(source.Driver.ImagePath(VmId))),
        };
        foreach ((string what, bool held) in checks)
        {
            output.WriteLine($"{(held ? "ok  " : "FAIL")} {what}");
        }

        return checks.All(c => c.Held);
    }
}
