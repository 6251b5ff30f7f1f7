using System.Net;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Testing.Simulation;

namespace SecureMigration.Cli.Cluster;

/// <summary>One host of the simulated cluster: its directory, credentials, hypervisor, journal, audit log and coordinator.</summary>
internal sealed class ClusterHost : IAsyncDisposable
{
    private readonly HostKey _key;
    private readonly MigrationHost _host;

    private ClusterHost(string directory, X509ChannelCredentials credentials, HostKey key, MigrationHost host, AfterCommitRegistry registry,
        SimulatedHypervisor driver)
    {
        Id = host.HostId;
        Directory = directory;
        Credentials = credentials;
        _key = key;
        _host = host;
        Registry = registry;
        Driver = driver;
        Factory = new SecureChannelFactory(new SecureChannelOptions { Credentials = credentials,
            TicketValidator = Coordinator.CreateTicketValidator() });
        Listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), Factory);
        Listener.Start();
    }

    /// <summary>Opens (or creates) the host's state in <paramref name="directory"/> and starts its listener.</summary>
    public static async Task<ClusterHost> CreateAsync(string directory, string id, X509ChannelCredentials credentials,
        IOwnershipRegistry registry,
        string? hooksDirectory)
    {
        HostKey key = HostKey.LoadOrCreate(KeyPath(directory));
        var driver = new SimulatedHypervisor(Path.Combine(directory, "vms"));
        var afterCommit = new AfterCommitRegistry(registry);
        var builder = new MigrationHostBuilder(id)
            .ConfigureCoordinator(o => (o.StallTimeout, o.CommitTimeout) = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)))
            .UseHostKey(key)
            .UseJournal(JournalPath(directory))
            .UseAudit(AuditPath(directory))
            .UseOwnershipRegistry(afterCommit)
            .UseDriver(driver, disposeWithHost: true)
            .UseSnapshots(new FileSnapshotProvider(Path.Combine(directory, "snapshots")))
            .UseResidue(new SanitizingResidueHandler(new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.Full }),
                SanitizationMethod.NistClear, credentials, CertificatesPath(directory)));
        if (hooksDirectory is not null)
        {
            builder.UseHooks(ExecutableHook.InDirectory(hooksDirectory, HookStage.PreMigrate), ExecutableHook.InDirectory(hooksDirectory,
                HookStage.PostMigrate));
        }

        try
        {
            return new ClusterHost(directory, credentials, key, await builder.BuildAsync(), afterCommit, driver);
        }
        catch
        {
            await driver.DisposeAsync();
            key.Dispose();
            throw;
        }
    }

    public string Id { get; }

    public string Directory { get; }

    public X509ChannelCredentials Credentials { get; }

    public AfterCommitRegistry Registry { get; }

    public SimulatedHypervisor Driver { get; }

    public IMigrationJournal Journal => _host.Journal;

    public SecureChannelFactory Factory { get; }

    public MigrationCoordinator Coordinator => _host.Coordinator;

    public SecureChannelListener Listener { get; }

    public static string JournalPath(string directory) => Path.Combine(directory, "journal.smj");

    /// <summary>The host's own key, which authenticates its journal and audit log.</summary>
    public static string KeyPath(string directory) => Path.Combine(directory, "host.key");

    public HostKey Key => _key;

    public static string AuditPath(string directory) => Path.Combine(directory, "audit.log");

    /// <summary>Where the host keeps the signed certificates of sanitization of its residue.</summary>
    public static string CertificatesPath(string directory) => Path.Combine(directory, "certificates");

    public async ValueTask DisposeAsync()
    {
        await Listener.DisposeAsync();
        await _host.DisposeAsync();
        _key.Dispose();
    }
}
