using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Channel;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.Hosting;
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
    private readonly MigrationHost _host;

    private LiveHost(LiveHostSettings settings, HostStateLock stateLock, HostKey key, MigrationHost host, IOwnershipRegistry registry,
        QemuDriver driver)
    {
        _stateLock = stateLock;
        _key = key;
        _host = host;
        Registry = registry;
        Driver = driver;
        // The coordinator checks every incoming ticket completely during the handshake, before anything is journaled or touched.
        settings.Channel.TicketValidator = Coordinator.CreateTicketValidator(settings.Channel.TicketValidator);
        Factory = new SecureChannelFactory(settings.Channel, settings.Logging);
    }

    public string Id => _host.HostId;

    public SecureChannelFactory Factory { get; }

    public IOwnershipRegistry Registry { get; }

    public QemuDriver Driver { get; }

    public AdmissionController Admission => _host.Admission!;

    public MigrationCoordinator Coordinator => _host.Coordinator;

    public IMigrationJournal Journal => _host.Journal;

    /// <summary>Makes the agent that serves and migrates on this host.</summary>
    public MigrationAgent CreateAgent(MigrationAgentOptions options) => new(_host, options);

    /// <summary>
    /// Opens the host's state in its work directory (created if needed), held by this process alone, restoring the
    /// admission state.
    /// </summary>
    /// <exception cref="StateInUseException">Another secmig process holds the work directory.</exception>
    public static async Task<LiveHost> OpenAsync(LiveHostSettings settings, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.WorkDirectory);
        HostStateLock held = StateInUseException.Acquire(settings.WorkDirectory);
        HostKey? key = null;
        IOwnershipRegistry? registry = null;
        try
        {
            // A key of the host's own (WORK/host.key): it outlives certificate renewals and no peer holds it.
            key = HostKey.LoadOrCreate(Path.Combine(settings.WorkDirectory, "host.key"));
            string id = settings.Channel.LocalIdentity ?? settings.Channel.Credentials!.LocalIdentity;
            registry = RegistryLocation.Open(settings.Registry, settings.Channel.Credentials!);
            var driver = new QemuDriver(DriverOptions(settings), settings.Logging);
            var builder = new MigrationHostBuilder(id)
                .ConfigureCoordinator(o => (o.StallTimeout, o.CommitTimeout) = (settings.StallTimeout, settings.CommitTimeout))
                .UseHostKey(key)
                .UseJournal(Path.Combine(settings.WorkDirectory, "journal.smj"))
                .UseAudit(Path.Combine(settings.WorkDirectory, "audit.log"))
                .UseOwnershipRegistry(registry)
                .UseDriver(driver, disposeWithHost: true)
                .UseAdmission(new AdmissionOptions(), new FileAdmissionStateStore(Path.Combine(settings.WorkDirectory, "admission.state")))
                .UseResidue(Residue(settings, key));
            if (settings.Logging is { } logging)
            {
                builder.UseLogging(logging);
            }

            if (settings.HooksDirectory is { } hooks)
            {
                builder.UseHooks(ExecutableHook.InDirectory(hooks, HookStage.PreMigrate), ExecutableHook.InDirectory(hooks,
                    HookStage.PostMigrate));
            }

            MigrationHost host;
            try
            {
                host = await builder.BuildAsync(cancellationToken);
            }
            catch
            {
                await driver.DisposeAsync();
                throw;
            }

            return new LiveHost(settings, held, key, host, registry, driver);
        }
        catch
        {
            (registry as IDisposable)?.Dispose();
            key?.Dispose();
            held.Dispose();
            throw;
        }
    }

    private static QemuDriverOptions DriverOptions(LiveHostSettings settings)
    {
        var driverOptions = new QemuDriverOptions
        {
            RuntimeDirectory = Path.Combine(settings.WorkDirectory, "run"), Progress = settings.QemuProgress,
                AllowTcpQmp = settings.AllowTcpQmp,
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

        return driverOptions;
    }

    /// <summary>Residue is sanitized, verified in full, and certified when the host has a certificate to sign with.</summary>
    private static SanitizingResidueHandler Residue(LiveHostSettings settings, HostKey key)
    {
        var sanitizer = new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.Full, CheckpointKey = key });
        return settings.Channel.Credentials is X509ChannelCredentials signer
            ? new SanitizingResidueHandler(sanitizer, settings.SanitizeMethod, signer, Path.Combine(settings.WorkDirectory, "certificates"))
            : new SanitizingResidueHandler(sanitizer, settings.SanitizeMethod);
    }

    /// <summary>Finishes what a crash of this host interrupted, before anything new starts, and prints it.</summary>
    public async Task RecoverAsync(ConsoleStyle style, CancellationToken cancellationToken)
    {
        foreach (RecoveredMigration migration in await Coordinator.RecoverAsync(cancellationToken))
        {
            style.Line($"recovered {migration.VmId} {migration.MigrationId:D} {migration.Role} {migration.From} -> {migration.To}: " +
                $"{migration.Decision}");
        }
    }

    /// <summary>Saves the admission state, so budgets and backoff outlive this process.</summary>
    public Task SaveAdmissionAsync(CancellationToken cancellationToken = default) => _host.SaveAdmissionAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        (Registry as IDisposable)?.Dispose();
        _key.Dispose();
        _stateLock.Dispose();
    }
}
