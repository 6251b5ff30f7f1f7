using Microsoft.Extensions.Logging;
using SecureMigration.Admission;
using SecureMigration.Audit;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Coordination.Crashes;

namespace SecureMigration.Tests.Coordination;

/// <summary>One host of a coordination test: its simulated hypervisor, journal, audit log, snapshots and coordinator, all in its own
/// directory.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly HostKey _key;

    private TestHost(string id, string directory, IOwnershipRegistry registry, CoordinatorOptions options, AdmissionController? admission,
        CrashPlan? crash, string? journalPath,
        ILoggerFactory? logging, TimeProvider? guestClock, Func<HypervisorDriver, HypervisorDriver>? wrapDriver,
        Func<IAuditSink, IAuditSink>? wrapAudit, Func<IMigrationJournal, IMigrationJournal>? wrapJournal)
    {
        Id = id;
        Directory = directory;
        _key = HostKey.FromSecret(System.Text.Encoding.UTF8.GetBytes(("host key of " + id).PadRight(32, '.')));
        var guests = new SimulatedHypervisorOptions { DirtyInterval = TimeSpan.FromMilliseconds(1) };
        Driver = new SimulatedHypervisor(Path.Combine(directory, "vms"), guests, guestClock);
        JournalPath = journalPath ?? Path.Combine(directory, "journal.smj");
        Journal = MigrationJournal.Open(JournalPath, _key);
        Audit = AuditLog.Open(Path.Combine(directory, "audit.log"), id, _key);
        Snapshots = new FileSnapshotProvider(Path.Combine(directory, "snapshots"));
        Crash = crash;
        HypervisorDriver driver = wrapDriver?.Invoke(Driver) ?? Driver;
        var builder = new MigrationHostBuilder(id)
            .UseCoordinatorOptions(options)
            .UseTimeProvider(options.TimeProvider)
            .UseJournal(wrapJournal?.Invoke(Journal) ?? Journal)
            .UseAudit(wrapAudit?.Invoke(Audit) ?? Audit)
            .UseSnapshots(Snapshots)
            .UseDriver(crash is null ? driver : new CrashingDriver(driver, crash))
            .UseOwnershipRegistry(crash is null ? registry : new CrashingRegistry(registry, crash));
        if (admission is not null)
        {
            builder.UseAdmission(admission);
        }

        if (logging is not null)
        {
            builder.UseLogging(logging);
        }

        // Nothing here restores state asynchronously (no admission store), so the build completes synchronously.
        Coordinator = builder.BuildAsync().GetAwaiter().GetResult().Coordinator;
    }

    public string Id { get; }

    /// <summary>Gets the audit log's entries, verified under this host's key.</summary>
    public SecureMigration.Audit.AuditVerification VerifyAudit() => SecureMigration.Audit.AuditLog.Verify(Audit.Path, _key);

    public string Directory { get; }

    public SimulatedHypervisor Driver { get; }

    public string JournalPath { get; }

    public MigrationJournal Journal { get; }

    public AuditLog Audit { get; }

    public FileSnapshotProvider Snapshots { get; }

    public MigrationCoordinator Coordinator { get; }

    /// <summary>Gets the crash this host is set up for, if any; progress reports are crash points too.</summary>
    public CrashPlan? Crash { get; }

    public IProgress<MigrationProgress>? Progress => Crash is null ? null : new CrashingProgress(Crash);

    public static TestHost Create(string id, string directory, IOwnershipRegistry registry, CoordinatorOptions? options = null,
        AdmissionController? admission = null,
        CrashPlan? crash = null, string? journalPath = null, ILoggerFactory? logging = null, TimeProvider? guestClock = null,
        Func<HypervisorDriver, HypervisorDriver>? wrapDriver = null, Func<IAuditSink, IAuditSink>? wrapAudit = null,
        Func<IMigrationJournal, IMigrationJournal>? wrapJournal = null) =>
        new(id, directory, registry, options ?? new CoordinatorOptions(), admission, crash, journalPath, logging, guestClock, wrapDriver,
            wrapAudit, wrapJournal);

    /// <summary>Closes everything, as a crash would (state stays on disk), runs <paramref name="whileDown"/>, and opens the host
    /// again.</summary>
    public async Task<TestHost> RestartAsync(IOwnershipRegistry registry, CoordinatorOptions? options = null, Action? whileDown = null)
    {
        await DisposeAsync();
        whileDown?.Invoke();
        return Create(Id, Directory, registry, options, journalPath: JournalPath);
    }

    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        Journal.Dispose();
        Audit.Dispose();
        _key.Dispose();
    }
}
