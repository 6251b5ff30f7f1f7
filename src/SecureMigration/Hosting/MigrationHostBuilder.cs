using Microsoft.Extensions.Logging;
using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.Hosting;

/// <summary>
/// Composes one host's SecureMigration stack: the one place a <see cref="MigrationCoordinator"/> is made. Set the parts
/// with the <c>Use…</c> methods, then call <see cref="BuildAsync"/> once: it validates every part and option, takes a
/// snapshot of the options (later changes do not reach the running host), opens the files it was given paths for,
/// restores the admission state, and returns an immutable <see cref="MigrationHost"/>. A builder builds once.
/// </summary>
/// <remarks>
/// Parts passed as instances stay yours (the host never disposes them, unless <see cref="UseDriver"/> is told to);
/// files opened from paths are the host's and close with it.
/// </remarks>
public sealed class MigrationHostBuilder
{
    private readonly string _hostId;
    private CoordinatorOptions _coordinator = new();
    private readonly List<IMigrationHook> _preMigrateHooks = [];
    private readonly List<IMigrationHook> _postMigrateHooks = [];
    private TimeProvider _timeProvider = TimeProvider.System;
    private ILoggerFactory? _loggerFactory;
    private HostKey? _hostKey;
    private string? _hostKeyPath;
    private IMigrationJournal? _journal;
    private string? _journalPath;
    private IAuditSink? _audit;
    private string? _auditPath;
    private IOwnershipRegistry? _registry;
    private HypervisorDriver? _driver;
    private bool _disposeDriver;
    private IResidueHandler? _residue;
    private ISnapshotProvider _snapshots = NoSnapshotProvider.Instance;
    private AdmissionOptions? _admissionOptions;
    private AdmissionController? _admissionController;
    private IAdmissionStateStore? _admissionStore;
    private bool _built;

    /// <summary>Creates a builder for the host named <paramref name="hostId"/>.</summary>
    /// <param name="hostId">This host's channel identity (its certificate name or PSK identity).</param>
    public MigrationHostBuilder(string hostId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostId);
        _hostId = hostId;
    }

    /// <summary>Uses <paramref name="timeProvider"/> for every part: coordinator, journal, audit, admission.</summary>
    public MigrationHostBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        return this;
    }

    /// <summary>Logs phases, refusals and admission decisions to <paramref name="loggerFactory"/>.</summary>
    public MigrationHostBuilder UseLogging(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Sets the coordinator's timeouts and flush size (its host id and clock are the builder's).</summary>
    public MigrationHostBuilder ConfigureCoordinator(Action<CoordinatorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_coordinator);
        return this;
    }

    /// <summary>Takes the coordinator's options from <paramref name="options"/> (snapshotted at build; host id and clock are the
    /// builder's).</summary>
    internal MigrationHostBuilder UseCoordinatorOptions(CoordinatorOptions options)
    {
        // The caller's object is only read, at build: its host id is replaced by the builder's in the snapshot.
        _coordinator = options ?? throw new ArgumentNullException(nameof(options));
        return this;
    }

    /// <summary>Authenticates the files the host opens with <paramref name="key"/> (yours: the host does not dispose it).</summary>
    public MigrationHostBuilder UseHostKey(HostKey key)
    {
        _hostKey = key ?? throw new ArgumentNullException(nameof(key));
        _hostKeyPath = null;
        return this;
    }

    /// <summary>
    /// Authenticates the files the host opens with the key kept in <paramref name="path"/> (created on first use, mode 0600;
    /// <see cref="HostKey.LoadOrCreate"/>).
    /// </summary>
    public MigrationHostBuilder UseHostKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _hostKeyPath = path;
        _hostKey = null;
        return this;
    }

    /// <summary>Keeps the journal in <paramref name="journal"/>.</summary>
    public MigrationHostBuilder UseJournal(IMigrationJournal journal)
    {
        _journal = journal ?? throw new ArgumentNullException(nameof(journal));
        _journalPath = null;
        return this;
    }

    /// <summary>Keeps the journal in the file <paramref name="path"/> (a <see cref="MigrationJournal"/>, under the host key).</summary>
    public MigrationHostBuilder UseJournal(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _journalPath = path;
        _journal = null;
        return this;
    }

    /// <summary>Writes the audit trail to <paramref name="audit"/>.</summary>
    public MigrationHostBuilder UseAudit(IAuditSink audit)
    {
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        _auditPath = null;
        return this;
    }

    /// <summary>Writes the audit trail to the file <paramref name="path"/> (an <see cref="AuditLog"/>, under the host key).</summary>
    public MigrationHostBuilder UseAudit(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _auditPath = path;
        _audit = null;
        return this;
    }

    /// <summary>Uses the ownership registry both hosts of a migration reach (required).</summary>
    public MigrationHostBuilder UseOwnershipRegistry(IOwnershipRegistry registry)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        return this;
    }

    /// <summary>Uses the hypervisor <paramref name="driver"/> (required).</summary>
    /// <param name="driver">The driver.</param>
    /// <param name="disposeWithHost">Whether the host disposes the driver when it is disposed.</param>
    /// <returns>This builder.</returns>
    public MigrationHostBuilder UseDriver(HypervisorDriver driver, bool disposeWithHost = false)
    {
        _driver = driver ?? throw new ArgumentNullException(nameof(driver));
        _disposeDriver = disposeWithHost;
        return this;
    }

    /// <summary>
    /// Disposes of leftover copies with <paramref name="residue"/>. The default overwrites each file (NIST Clear, verified) with a
    /// <see cref="SanitizingResidueHandler"/> before deleting it.
    /// </summary>
    public MigrationHostBuilder UseResidue(IResidueHandler residue)
    {
        _residue = residue ?? throw new ArgumentNullException(nameof(residue));
        return this;
    }

    /// <summary>Snapshots source images before they move (the default takes none).</summary>
    public MigrationHostBuilder UseSnapshots(ISnapshotProvider snapshots)
    {
        _snapshots = snapshots ?? throw new ArgumentNullException(nameof(snapshots));
        return this;
    }

    /// <summary>Runs <paramref name="preMigrate"/> before a migration (a veto refuses it) and <paramref name="postMigrate"/> before the
    /// commit (a veto rolls it back).</summary>
    public MigrationHostBuilder UseHooks(IEnumerable<IMigrationHook> preMigrate, IEnumerable<IMigrationHook> postMigrate)
    {
        ArgumentNullException.ThrowIfNull(preMigrate);
        ArgumentNullException.ThrowIfNull(postMigrate);
        _preMigrateHooks.AddRange(preMigrate.Select(h => h ?? throw new ArgumentException("A hook is null.", nameof(preMigrate))));
        _postMigrateHooks.AddRange(postMigrate.Select(h => h ?? throw new ArgumentException("A hook is null.", nameof(postMigrate))));
        return this;
    }

    /// <summary>
    /// Turns on the thrash defense with <paramref name="options"/>; with a <paramref name="store"/>, its state is restored
    /// at build and saved by <see cref="MigrationHost.SaveAdmissionAsync"/>.
    /// </summary>
    public MigrationHostBuilder UseAdmission(AdmissionOptions options, IAdmissionStateStore? store = null)
    {
        _admissionOptions = options ?? throw new ArgumentNullException(nameof(options));
        _admissionController = null;
        _admissionStore = store;
        return this;
    }

    /// <summary>
    /// Turns on the thrash defense with a controller you made (shared by several hosts of a simulation, or with seeded
    /// jitter); with a <paramref name="store"/>, <see cref="MigrationHost.SaveAdmissionAsync"/> saves its state there.
    /// </summary>
    public MigrationHostBuilder UseAdmission(AdmissionController controller, IAdmissionStateStore? store = null)
    {
        _admissionController = controller ?? throw new ArgumentNullException(nameof(controller));
        _admissionOptions = null;
        _admissionStore = store;
        return this;
    }

    /// <summary>Validates every part and option, opens the host's files and restores admission state.</summary>
    /// <param name="cancellationToken">Cancels restoring the admission state.</param>
    /// <returns>The host, immutable.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it, its value and what is allowed.</exception>
    /// <exception cref="InvalidOperationException">A required part is missing, or this builder already built a host.</exception>
    public async Task<MigrationHost> BuildAsync(CancellationToken cancellationToken = default)
    {
        if (_built)
        {
            throw new InvalidOperationException("This MigrationHostBuilder already built a host; make a new builder for another.");
        }

        CoordinatorOptions options = _coordinator.Snapshot(_timeProvider);
        options.HostId = _hostId;
        foreach (IMigrationHook hook in _preMigrateHooks)
        {
            options.PreMigrateHooks.Add(hook);
        }

        foreach (IMigrationHook hook in _postMigrateHooks)
        {
            options.PostMigrateHooks.Add(hook);
        }

        options.Validate();
        _admissionOptions?.Validate();
        HypervisorDriver driver = _driver ?? throw Missing("hypervisor driver", "UseDriver (for QEMU: UseQemu)");
        IOwnershipRegistry registry = _registry ?? throw Missing("ownership registry", "UseOwnershipRegistry (new " +
            "FileOwnershipRegistry(directory))");
        if (_journal is null && _journalPath is null)
        {
            throw Missing("journal", "UseJournal(path)");
        }

        if (_audit is null && _auditPath is null)
        {
            throw Missing("audit sink", "UseAudit(path)");
        }

        if (_hostKey is null && _hostKeyPath is null && (_journalPath is not null || _auditPath is not null))
        {
            throw Missing("host key, which authenticates its journal and audit files,", "UseHostKey(path) (for example WORK/host.key)");
        }

        _built = true;
        var owned = new List<IDisposable>();
        try
        {
            HostKey? key = _hostKey;
            if (key is null && _hostKeyPath is not null)
            {
                key = HostKey.LoadOrCreate(_hostKeyPath);
                owned.Add(key);
            }

            IMigrationJournal journal = _journal ?? Own(MigrationJournal.Open(_journalPath!, key!, _timeProvider), owned);
            IAuditSink audit = _audit ?? Own(AuditLog.Open(_auditPath!, options.HostId, key!, _timeProvider), owned);
            AdmissionController? admission = _admissionController;
            if (_admissionOptions is { } admissionOptions)
            {
                admission = _admissionStore is { } store
                    ? await AdmissionController.RestoreAsync(admissionOptions, store, _timeProvider, loggerFactory: _loggerFactory,
                        cancellationToken: cancellationToken).ConfigureAwait(false)
                    : new AdmissionController(admissionOptions, _timeProvider, loggerFactory: _loggerFactory);
            }

            IResidueHandler residue = _residue ??
                new SanitizingResidueHandler(new BlockSanitizer(new SanitizerOptions { TimeProvider = _timeProvider }));
            var coordinator = new MigrationCoordinator(options, driver, journal, registry, audit, _snapshots, residue, admission,
                _loggerFactory);
            return new MigrationHost(options.HostId, _timeProvider, coordinator, journal, audit, registry, driver, admission,
                _admissionStore,
                _disposeDriver ? driver : null, owned);
        }
        catch
        {
            for (int i = owned.Count - 1; i >= 0; i--)
            {
                owned[i].Dispose();
            }

            throw;
        }
    }

    private static T Own<T>(T part, List<IDisposable> owned)
        where T : IDisposable
    {
        owned.Add(part);
        return part;
    }

    private static InvalidOperationException Missing(string what, string call) =>
        new($"The MigrationHostBuilder has no {what}; call {call}.");
}
