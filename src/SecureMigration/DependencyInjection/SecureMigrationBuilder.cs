using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.DependencyInjection;

/// <summary>
/// What <c>services.AddSecureMigration(builder =&gt; …)</c> registers: the channel, admission, the coordinator with its
/// journal, audit log, ownership registry, snapshots, residue sanitizer, hooks and your hypervisor driver. Every
/// option is validated when <c>AddSecureMigration</c> runs, so a bad one fails start-up, not the first migration.
/// </summary>
public sealed class SecureMigrationBuilder
{
    internal SecureMigrationBuilder()
    {
    }

    /// <summary>Gets the secure channel's options: set <see cref="SecureChannelOptions.Credentials"/> at least.</summary>
    public SecureChannelOptions Channel { get; } = new();

    /// <summary>Gets the coordinator's options; an empty <see cref="CoordinatorOptions.HostId"/> becomes the channel's identity.</summary>
    public CoordinatorOptions Coordinator { get; } = new();

    /// <summary>Gets the admission options, or <see langword="null"/> (the default) to migrate without the thrash defense.</summary>
    public AdmissionOptions? Admission { get; private set; }

    /// <summary>Gets the sanitizer's options (residue is wiped with them).</summary>
    public SanitizerOptions Sanitizer { get; } = new();

    /// <summary>Gets or sets how residue is wiped.</summary>
    public SanitizationMethod SanitizationMethod { get; set; } = SanitizationMethod.NistClear;

    /// <summary>Gets or sets where signed certificates of sanitization go (X.509 credentials only), or <see langword="null"/> for
    /// none.</summary>
    public string? CertificateDirectory { get; set; }

    /// <summary>
    /// Gets or sets the file that keeps the admission state (budgets, backoff, breakers), restored at start and saved by
    /// <see cref="Hosting.MigrationHost.SaveAdmissionAsync"/>; <see langword="null"/> keeps it in memory only.
    /// </summary>
    public string? AdmissionStatePath { get; set; }

    /// <summary>Gets or sets the journal file (required).</summary>
    public string? JournalPath { get; set; }

    /// <summary>Gets or sets the audit log file (required).</summary>
    public string? AuditLogPath { get; set; }

    /// <summary>
    /// Gets or sets the file that keeps the host's own key, which authenticates the journal (created on first use,
    /// mode 0600; see <see cref="HostKey.LoadOrCreate"/>).
    /// </summary>
    /// <value>The default is <c>host.key</c> beside <see cref="JournalPath"/>.</value>
    public string? HostKeyPath { get; set; }

    /// <summary>Gets or sets the clock every part uses.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal Func<IServiceProvider, HypervisorDriver>? Driver { get; private set; }

    internal Func<IServiceProvider, IOwnershipRegistry>? Registry { get; private set; }

    internal Func<IServiceProvider, ISnapshotProvider> Snapshots { get; private set; } = _ => NoSnapshotProvider.Instance;

    /// <summary>Uses your hypervisor driver (required).</summary>
    public SecureMigrationBuilder UseDriver(Func<IServiceProvider, HypervisorDriver> driver)
    {
        Driver = driver ?? throw new ArgumentNullException(nameof(driver));
        return this;
    }

    /// <summary>Uses an ownership registry both hosts reach (required), for example a consensus store's.</summary>
    public SecureMigrationBuilder UseOwnershipRegistry(Func<IServiceProvider, IOwnershipRegistry> registry)
    {
        Registry = registry ?? throw new ArgumentNullException(nameof(registry));
        return this;
    }

    /// <summary>Uses a <see cref="FileOwnershipRegistry"/> in <paramref name="directory"/> (shared storage both hosts reach).</summary>
    public SecureMigrationBuilder UseFileOwnershipRegistry(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return UseOwnershipRegistry(_ => new FileOwnershipRegistry(directory, TimeProvider));
    }

    /// <summary>Snapshots source images before they move (the default takes none: for hypervisors whose source keeps running).</summary>
    public SecureMigrationBuilder UseSnapshots(Func<IServiceProvider, ISnapshotProvider> snapshots)
    {
        Snapshots = snapshots ?? throw new ArgumentNullException(nameof(snapshots));
        return this;
    }

    /// <summary>Adds a hook run before a migration on this host; a veto refuses the migration.</summary>
    public SecureMigrationBuilder AddPreMigrateHook(IMigrationHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        Coordinator.PreMigrateHooks.Add(hook);
        return this;
    }

    /// <summary>Adds a hook run after the stream was verified and before the commit; a veto rolls the migration back.</summary>
    public SecureMigrationBuilder AddPostMigrateHook(IMigrationHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        Coordinator.PostMigrateHooks.Add(hook);
        return this;
    }

    /// <summary>Turns on the thrash defense with its defaults, adjusted by <paramref name="configure"/>.</summary>
    public SecureMigrationBuilder UseAdmission(Action<AdmissionOptions>? configure = null)
    {
        Admission = new AdmissionOptions();
        configure?.Invoke(Admission);
        return this;
    }

    /// <summary>Checks every option and required part; the message names the option, its value and what is allowed.</summary>
    internal void Validate()
    {
        Channel.TimeProvider = TimeProvider;
        Coordinator.TimeProvider = TimeProvider;
        Sanitizer.TimeProvider = TimeProvider;
        Channel.Validate();
        if (string.IsNullOrWhiteSpace(Coordinator.HostId))
        {
            Coordinator.HostId = Channel.EffectiveLocalIdentity;
        }

        Coordinator.Validate();
        Admission?.Validate();
        Sanitizer.Validate();
        if (!Enum.IsDefined(SanitizationMethod))
        {
            throw new ArgumentException($"SecureMigrationBuilder.SanitizationMethod is {SanitizationMethod}; it must be one of " +
                $"{string.Join(", ", Enum.GetNames<SanitizationMethod>())}.");
        }

        Required(JournalPath, "JournalPath", "a file for the host's migration journal");
        Required(AuditLogPath, "AuditLogPath", "a file for the host's audit log");
        if (Driver is null)
        {
            throw new InvalidOperationException("SecureMigrationBuilder has no hypervisor driver; call UseDriver (for QEMU: new " +
                "QemuDriver(...)).");
        }

        if (Registry is null)
        {
            throw new InvalidOperationException("SecureMigrationBuilder has no ownership registry; call " +
                "UseFileOwnershipRegistry(directory) or UseOwnershipRegistry.");
        }
    }

    private static void Required(string? value, string name, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"SecureMigrationBuilder.{name} is empty; set it to {what}.");
        }
    }
}
