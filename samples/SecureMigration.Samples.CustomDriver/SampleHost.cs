using System.Net;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.Samples.CustomDriver;

/// <summary>
/// Everything one host needs to take part in migrations: its credentials, your driver, a durable journal sealed with
/// the host's key, an audit log, the shared ownership registry, a residue sanitizer, and the coordinator that runs them.
/// </summary>
public sealed class SampleHost : IAsyncDisposable
{
    private readonly HostKey _key;
    private readonly MigrationHost _host;

    private SampleHost(string id, HostKey key, MigrationHost host, StopAndCopyHypervisor driver, X509ChannelCredentials credentials)
    {
        Id = id;
        _key = key;
        _host = host;
        Driver = driver;
        // Incoming tickets get the coordinator's complete check during the handshake, before anything is touched.
        Channels = new SecureChannelFactory(new SecureChannelOptions { Credentials = credentials,
            TicketValidator = Coordinator.CreateTicketValidator() });
    }

    /// <summary>Opens (or creates) the host <paramref name="id"/> in <paramref name="directory"/>.</summary>
    public static async Task<SampleHost> OpenAsync(string id, string directory, X509ChannelCredentials credentials,
        IOwnershipRegistry registry)
    {
        var key = HostKey.FromCredentials(credentials);
        var driver = new StopAndCopyHypervisor(Path.Combine(directory, "vms"));
        try
        {
            MigrationHost host = await new MigrationHostBuilder(id)
                .UseHostKey(key)
                .UseJournal(Path.Combine(directory, "journal.smj"))
                .UseAudit(Path.Combine(directory, "audit.log"))
                .UseOwnershipRegistry(registry)
                .UseDriver(driver)
                .UseResidue(new SanitizingResidueHandler(new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.Full }),
                    SanitizationMethod.NistClear, credentials, Path.Combine(directory, "certificates")))
                .BuildAsync();
            return new SampleHost(id, key, host, driver, credentials);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Gets the host's identity: the name its certificate carries.</summary>
    public string Id { get; }

    /// <summary>Gets the host's hypervisor driver.</summary>
    public StopAndCopyHypervisor Driver { get; }

    /// <summary>Gets the factory of the host's mutually authenticated channels.</summary>
    public SecureChannelFactory Channels { get; }

    /// <summary>Gets the coordinator that runs the host's migrations.</summary>
    public MigrationCoordinator Coordinator => _host.Coordinator;

    /// <summary>Destination: accepts one authenticated channel on <paramref name="listener"/> and receives the migration it
    /// carries.</summary>
    public async Task<MigrationResult> ReceiveOneAsync(SecureChannelListener listener, CancellationToken cancellationToken)
    {
        ChannelConnection connection = await listener.AcceptAsync(cancellationToken)
            ?? throw new InvalidOperationException("The listener closed before a migration arrived.");
        return await Coordinator.ReceiveAsync(connection, cancellationToken: cancellationToken);
    }

    /// <summary>Source: migrates <paramref name="vmId"/> to <paramref name="destination"/>, reached at
    /// <paramref name="endPoint"/>.</summary>
    public Task<MigrationResult> MigrateAsync(string vmId, string destination, EndPoint endPoint, CancellationToken cancellationToken) =>
        Coordinator.MigrateAsync(vmId, destination, async (ticket, token) => await Channels.ConnectAsync(endPoint, ticket, token),
            cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _key.Dispose();
    }
}
