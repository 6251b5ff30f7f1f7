using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Hosting;

/// <summary>
/// One host's SecureMigration stack as <see cref="MigrationHostBuilder"/> built it: the coordinator and the parts it
/// runs on. Immutable; disposing it closes the files it opened (and the driver, if it was told to own it).
/// </summary>
public sealed class MigrationHost : IAsyncDisposable
{
    private readonly IAdmissionStateStore? _admissionStore;
    private readonly HypervisorDriver? _ownedDriver;
    private readonly IReadOnlyList<IDisposable> _owned;
    private int _disposed;

    internal MigrationHost(string hostId, TimeProvider timeProvider, MigrationCoordinator coordinator, IMigrationJournal journal,
        IAuditSink audit,
        IOwnershipRegistry registry, HypervisorDriver driver, AdmissionController? admission, IAdmissionStateStore? admissionStore,
        HypervisorDriver? ownedDriver, IReadOnlyList<IDisposable> owned)
    {
        HostId = hostId;
        TimeProvider = timeProvider;
        Coordinator = coordinator;
        Journal = journal;
        Audit = audit;
        Registry = registry;
        Driver = driver;
        Admission = admission;
        _admissionStore = admissionStore;
        _ownedDriver = ownedDriver;
        _owned = owned;
    }

    /// <summary>Gets this host's channel identity.</summary>
    public string HostId { get; }

    /// <summary>Gets the clock every part of the host runs on.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the coordinator that runs this host's migrations.</summary>
    public MigrationCoordinator Coordinator { get; }

    /// <summary>Gets the host's journal.</summary>
    public IMigrationJournal Journal { get; }

    /// <summary>Gets the host's audit sink.</summary>
    public IAuditSink Audit { get; }

    /// <summary>Gets the ownership registry.</summary>
    public IOwnershipRegistry Registry { get; }

    /// <summary>Gets the hypervisor driver.</summary>
    public HypervisorDriver Driver { get; }

    /// <summary>Gets the thrash defense, or <see langword="null"/> when admission is off.</summary>
    public AdmissionController? Admission { get; }

    /// <summary>Saves the admission state to its store, so budgets and backoff outlive this process; nothing to do without one.</summary>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the state is saved.</returns>
    public Task SaveAdmissionAsync(CancellationToken cancellationToken = default) =>
        Admission is { } admission && _admissionStore is { } store ? admission.SaveAsync(store, cancellationToken) : Task.CompletedTask;

    /// <summary>Closes what the host opened: its files, and the driver if it owns it.</summary>
    /// <returns>A task that completes when they are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_ownedDriver is IAsyncDisposable asyncDriver)
        {
            await asyncDriver.DisposeAsync().ConfigureAwait(false);
        }
        else if (_ownedDriver is IDisposable driver)
        {
            driver.Dispose();
        }

        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }
}
