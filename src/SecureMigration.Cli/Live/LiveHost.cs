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
    private readonly ICredentialRotation[] _credentialHolders;
    private readonly ExecutableHookDirectory[] _hooks;
    private readonly List<IDisposable> _retiredCredentials = [];

    private LiveHost(LiveHostSettings settings, HostStateLock stateLock, HostKey key, MigrationHost host, IOwnershipRegistry registry,
        QemuDriver driver, SanitizingResidueHandler residue, ExecutableHookDirectory[] hooks)
    {
        _stateLock = stateLock;
        _key = key;
        _host = host;
        Registry = registry;
        RegisteredVms = new RegisteredVms(registry, host.HostId);
        Driver = driver;
        _credentialHolders = [.. new object[] { registry, residue }.OfType<ICredentialRotation>()];
        _hooks = hooks;
        // The coordinator checks every incoming ticket completely during the handshake, before anything is journaled or touched.
        settings.Channel.TicketValidator = Coordinator.CreateTicketValidator(settings.Channel.TicketValidator);
        Factory = new SecureChannelFactory(settings.Channel, settings.Logging);
    }

    public string Id => _host.HostId;

    public SecureChannelFactory Factory { get; }

    public IOwnershipRegistry Registry { get; }

    /// <summary>Gets the VMs this process registered, or found registered, before their first migration from here.</summary>
    public RegisteredVms RegisteredVms { get; }

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
            SanitizingResidueHandler residue = Residue(settings, key);
            var builder = new MigrationHostBuilder(id)
                .ConfigureCoordinator(o => (o.StallTimeout, o.CommitTimeout) = (settings.StallTimeout, settings.CommitTimeout))
                .UseHostKey(key)
                .UseJournal(Path.Combine(settings.WorkDirectory, "journal.smj"))
                .UseAudit(Path.Combine(settings.WorkDirectory, "audit.log"))
                .UseOwnershipRegistry(registry)
                .UseDriver(driver, disposeWithHost: true)
                .UseAdmission(new AdmissionOptions(), new FileAdmissionStateStore(Path.Combine(settings.WorkDirectory, "admission.state")))
                .UseResidue(residue);
            if (settings.Logging is { } logging)
            {
                builder.UseLogging(logging);
            }

            // Directories rather than the hooks found now: a reload finds them again.
            ExecutableHookDirectory[] hooks = settings.HooksDirectory is { } directory
                ? [new(directory, HookStage.PreMigrate), new(directory, HookStage.PostMigrate)]
                : [];
            if (hooks.Length > 0)
            {
                builder.UseHooks([hooks[0]], [hooks[1]]);
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

            return new LiveHost(settings, held, key, host, registry, driver, residue, hooks);
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

    /// <summary>
    /// Takes renewed credentials and peer policy (allowed peers, pins, CRLs) for every handshake from now on, and for what the host
    /// signs and presents beyond them (ownership records, etcd, certificates of sanitization), and finds its hooks again. Migrations
    /// in flight keep their sessions. Checked first by the channel factory: nothing changes when it refuses them.
    /// </summary>
    /// <param name="channel">The credentials and peer policy loaded anew.</param>
    /// <returns>How many hooks run from now on.</returns>
    /// <exception cref="ArgumentException">The credentials change the host's identity or kind, or would widen who is served.</exception>
    public int Reload(SecureChannelOptions channel)
    {
        ChannelCredentials previous = Factory.Credentials;
        ChannelCredentials renewed = channel.Credentials!;
        Factory.Rotate(renewed, channel.PeerPolicy);
        foreach (ICredentialRotation holder in _credentialHolders)
        {
            holder.RotateCredentials(renewed);
        }

        if (previous is IDisposable secrets)
        {
            // A handshake that began before may still read the old keys: they are wiped when the host closes.
            lock (_retiredCredentials)
            {
                _retiredCredentials.Add(secrets);
            }
        }

        return _hooks.Sum(directory => directory.Reload().Count);
    }

    /// <summary>Saves the admission state, so budgets and backoff outlive this process.</summary>
    public Task SaveAdmissionAsync(CancellationToken cancellationToken = default) => _host.SaveAdmissionAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        (Registry as IDisposable)?.Dispose();
        (Factory.Credentials as IDisposable)?.Dispose();
        lock (_retiredCredentials)
        {
            _retiredCredentials.ForEach(secrets => secrets.Dispose());
        }

        _key.Dispose();
        _stateLock.Dispose();
    }
}
