using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Identity;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Sanitization;

namespace SecureMigration.Cli.Live;

/// <summary>
/// One real host's SecureMigration stack for <c>secmig agent</c> and <c>secmig migrate</c>: the QEMU driver, the
/// journal, audit log and admission state in the work directory, the shared ownership registry, the channel factory,
/// and the coordinator that ties them together, with residue sanitized and verified.
/// </summary>
internal sealed class LiveHost : IAsyncDisposable
{
    private readonly HostStateLock _stateLock;
    private readonly HostKey _key;
    private readonly FileAdmissionStateStore _admissionStore;
    private readonly MigrationJournal _journal;
    private readonly AuditLog _audit;

    private LiveHost(LiveHostSettings settings, HostStateLock stateLock, AdmissionController admission, FileAdmissionStateStore admissionStore)
    {
        _stateLock = stateLock;
        Id = settings.Channel.LocalIdentity ?? settings.Channel.Credentials!.LocalIdentity;
        // A key of the host's own (WORK/host.key): it outlives certificate renewals and no peer holds it.
        _key = HostKey.LoadOrCreate(Path.Combine(settings.WorkDirectory, "host.key"));
        _admissionStore = admissionStore;
        Admission = admission;
        // With certificates, every record this host writes is signed and only records signed by their owner are read.
        Registry = settings.Channel.Credentials is PskKeyringCredentials keyring
            ? new FileOwnershipRegistry(settings.RegistryDirectory, timeProvider: null, keyring)
            : new FileOwnershipRegistry(settings.RegistryDirectory, signer: settings.Channel.Credentials as X509ChannelCredentials);
        var driverOptions = new QemuDriverOptions
        {
            RuntimeDirectory = Path.Combine(settings.WorkDirectory, "run"), Progress = settings.QemuProgress, AllowTcpQmp = settings.AllowTcpQmp,
            ConnectTimeout = settings.QemuTimeout, SettleTimeout = settings.SettleTimeout,
            Qmp = new QmpClientOptions { ConnectTimeout = settings.QemuTimeout, CommandTimeout = settings.QemuTimeout },
        };
        // A timeout's message names the option that raises it.
        driverOptions.SettingNames[nameof(QemuDriverOptions.ConnectTimeout)] = "--qemu-timeout";
        driverOptions.SettingNames[nameof(QemuDriverOptions.SettleTimeout)] = "--settle-timeout";
        driverOptions.Qmp.SettingNames[nameof(QmpClientOptions.ConnectTimeout)] = "--qemu-timeout";
        driverOptions.Qmp.SettingNames[nameof(QmpClientOptions.CommandTimeout)] = "--qemu-timeout";
        foreach (QemuVm vm in settings.Vms)
        {
            driverOptions.Vms.Add(vm);
        }

        foreach (string directory in settings.MemoryDirectories)
        {
            driverOptions.AllowedMemoryDirectories.Add(directory);
        }

        Driver = new QemuDriver(driverOptions, settings.Logging);
        _journal = MigrationJournal.Open(Path.Combine(settings.WorkDirectory, "journal.smj"), _key);
        _audit = AuditLog.Open(Path.Combine(settings.WorkDirectory, "audit.log"), Id, _key);
        var options = new CoordinatorOptions { HostId = Id, StallTimeout = settings.StallTimeout, CommitTimeout = settings.CommitTimeout };
        if (settings.HooksDirectory is { } hooks)
        {
            ExecutableHook.InDirectory(hooks, HookStage.PreMigrate).ToList().ForEach(options.PreMigrateHooks.Add);
            ExecutableHook.InDirectory(hooks, HookStage.PostMigrate).ToList().ForEach(options.PostMigrateHooks.Add);
        }

        var sanitizer = new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.Full, CheckpointKey = _key });
        IResidueHandler residue = settings.Channel.Credentials is X509ChannelCredentials signer
            ? new SanitizingResidueHandler(sanitizer, settings.SanitizeMethod, signer, Path.Combine(settings.WorkDirectory, "certificates"))
            : new SanitizingResidueHandler(sanitizer, settings.SanitizeMethod);
        Coordinator = new MigrationCoordinator(options, Driver, _journal, Registry, _audit, NoSnapshotProvider.Instance, residue, admission, settings.Logging);

        // The coordinator checks every incoming ticket completely during the handshake, before anything is journaled or touched.
        settings.Channel.TicketValidator = Coordinator.CreateTicketValidator(settings.Channel.TicketValidator);
        Factory = new SecureChannelFactory(settings.Channel, settings.Logging);
    }

    public string Id { get; }

    public SecureChannelFactory Factory { get; }

    public FileOwnershipRegistry Registry { get; }

    public QemuDriver Driver { get; }

    public AdmissionController Admission { get; }

    public MigrationCoordinator Coordinator { get; }

    /// <summary>
    /// Opens the host's state in its work directory (created if needed), held by this process alone, restoring the
    /// admission state.
    /// </summary>
    /// <exception cref="StateInUseException">Another secmig process holds the work directory.</exception>
    public static async Task<LiveHost> OpenAsync(LiveHostSettings settings, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.WorkDirectory);
        HostStateLock held = StateInUseException.Acquire(settings.WorkDirectory);
        try
        {
            var store = new FileAdmissionStateStore(Path.Combine(settings.WorkDirectory, "admission.state"));
            AdmissionController admission = await AdmissionController.RestoreAsync(new AdmissionOptions(), store, loggerFactory: settings.Logging,
                cancellationToken: cancellationToken);
            return new LiveHost(settings, held, admission, store);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>Finishes what a crash of this host interrupted, before anything new starts, and prints it.</summary>
    public async Task RecoverAsync(ConsoleStyle style, CancellationToken cancellationToken)
    {
        foreach (RecoveredMigration migration in await Coordinator.RecoverAsync(cancellationToken))
        {
            style.Line($"recovered {migration.VmId} {migration.MigrationId:D} {migration.Role} {migration.From} -> {migration.To}: {migration.Decision}");
        }
    }

    /// <summary>Saves the admission state, so budgets and backoff outlive this process.</summary>
    public Task SaveAdmissionAsync(CancellationToken cancellationToken = default) => Admission.SaveAsync(_admissionStore, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Driver.DisposeAsync();
        _journal.Dispose();
        _audit.Dispose();
        _key.Dispose();
        _stateLock.Dispose();
    }
}
