using System.Net;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers.Simulation;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.Cli.Cluster;

/// <summary>One host of the simulated cluster: its directory, credentials, hypervisor, journal, audit log and coordinator.</summary>
internal sealed class ClusterHost : IAsyncDisposable
{
    private readonly HostKey _key;

    public ClusterHost(string directory, X509ChannelCredentials credentials, IOwnershipRegistry registry, CoordinatorOptions options)
    {
        Id = options.HostId;
        Directory = directory;
        Credentials = credentials;
        _key = HostKey.LoadOrCreate(KeyPath(directory));
        Registry = new AfterCommitRegistry(registry);
        Driver = new SimulatedHypervisor(Path.Combine(directory, "vms"));
        Journal = MigrationJournal.Open(JournalPath(directory), _key);
        Audit = AuditLog.Open(AuditPath(directory), Id, _key);
        Snapshots = new FileSnapshotProvider(Path.Combine(directory, "snapshots"));
        Coordinator = new MigrationCoordinator(options, Driver, Journal, Registry, Audit, Snapshots,
            new SanitizingResidueHandler(new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.Full }), SanitizationMethod.NistClear,
                credentials, CertificatesPath(directory)));
        Factory = new SecureChannelFactory(new SecureChannelOptions { Credentials = credentials, TicketValidator = Coordinator.CreateTicketValidator() });
        Listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), Factory);
        Listener.Start();
    }

    public string Id { get; }

    public string Directory { get; }

    public X509ChannelCredentials Credentials { get; }

    public AfterCommitRegistry Registry { get; }

    public SimulatedHypervisor Driver { get; }

    public MigrationJournal Journal { get; }

    public AuditLog Audit { get; }

    public FileSnapshotProvider Snapshots { get; }

    public SecureChannelFactory Factory { get; }

    public MigrationCoordinator Coordinator { get; }

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
        await Driver.DisposeAsync();
        Journal.Dispose();
        Audit.Dispose();
        _key.Dispose();
    }
}
