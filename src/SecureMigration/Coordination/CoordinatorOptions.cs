using SecureMigration.Coordination.Hooks;

namespace SecureMigration.Coordination;

/// <summary>How a <see cref="MigrationCoordinator"/> runs migrations on this host.</summary>
public sealed class CoordinatorOptions
{
    /// <summary>Gets or sets this host's identity: its channel identity (certificate name or PSK identity), used in tickets and the
    /// ownership registry.</summary>
    public string HostId { get; set; } = string.Empty;

    /// <summary>Gets or sets how long one hook may run before it counts as a veto.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan HookTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long the stream or a protocol message may stall before the migration rolls back.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long each side waits for the other's commit message before it lets the ownership registry
    /// decide.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a migration ticket stays valid.</summary>
    /// <value>5 minutes.</value>
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how much of the migration stream is sent between two flushes of the channel. Frames always fill one
    /// TLS record each, so the stream is encrypted where the hypervisor's bytes were read.
    /// </summary>
    /// <value>256 KiB.</value>
    public int FlushBytes { get; set; } = 256 * 1024;

    /// <summary>Gets the hooks run before a migration on this host, in order.</summary>
    public IList<IMigrationHook> PreMigrateHooks { get; } = [];

    /// <summary>Gets the hooks run after the transfer and before the commit on this host, in order.</summary>
    public IList<IMigrationHook> PostMigrateHooks { get; } = [];

    /// <summary>
    /// Gets or sets the clock of every timeout. The host's one clock (<c>MigrationHostBuilder.UseTimeProvider</c>) is
    /// written here when the options are snapshotted, so there is no second public way to set it.
    /// </summary>
    /// <value><see cref="TimeProvider.System"/>.</value>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws unless every option is usable; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(HostId))
        {
            throw new ArgumentException("CoordinatorOptions.HostId is empty; set it to this host's channel identity (its certificate " +
                "name or PSK identity).");
        }

        foreach ((string name, TimeSpan value) in new[] { ("HookTimeout", HookTimeout), ("StallTimeout", StallTimeout), ("CommitTimeout",
            CommitTimeout), ("TicketLifetime", TicketLifetime) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"CoordinatorOptions.{name} is {value}; it must be positive.");
            }
        }

        if (FlushBytes is < 4096 or > 64 * 1024 * 1024)
        {
            throw new ArgumentException($"CoordinatorOptions.FlushBytes is {FlushBytes}; it must be between 4096 and 64 MiB.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    /// <summary>A copy that later changes to these options do not reach: a running coordinator keeps what it was built with.</summary>
    internal CoordinatorOptions Snapshot(TimeProvider timeProvider)
    {
        var copy = new CoordinatorOptions
        {
            HostId = HostId, HookTimeout = HookTimeout, StallTimeout = StallTimeout, CommitTimeout = CommitTimeout,
            TicketLifetime = TicketLifetime, FlushBytes = FlushBytes, TimeProvider = timeProvider,
        };
        foreach (IMigrationHook hook in PreMigrateHooks)
        {
            copy.PreMigrateHooks.Add(hook);
        }

        foreach (IMigrationHook hook in PostMigrateHooks)
        {
            copy.PostMigrateHooks.Add(hook);
        }

        return copy;
    }
}
