namespace SecureMigration.Qemu.Qmp;

/// <summary>How a <see cref="QmpClient"/> talks to QEMU.</summary>
public sealed class QmpClientOptions
{
    /// <summary>Gets or sets how long connecting, the greeting and capabilities negotiation may take.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long QEMU may take to answer one command.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the largest message accepted from QEMU; a longer one breaks the connection instead of growing a
    /// buffer.</summary>
    /// <value>16 MiB (the largest QEMU answer, <c>query-qmp-schema</c>, is far smaller).</value>
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Gets or sets how many unread events one watcher keeps; older ones are dropped first.</summary>
    /// <value>1024.</value>
    public int EventBacklog { get; set; } = 1024;

    /// <summary>
    /// Gets what users set these options by, keyed by property name (<c>ConnectTimeout</c>, <c>CommandTimeout</c>), for a
    /// tool whose users set them otherwise (secmig: <c>--qemu-timeout</c>): a timeout's message tells them what to raise.
    /// A property not listed is named as <c>QmpClientOptions.NAME</c>.
    /// </summary>
    public IDictionary<string, string> SettingNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the clock of every timeout.</summary>
    /// <value><see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The name users set <paramref name="property"/> by.</summary>
    internal string NameOf(string property) => SettingNames.TryGetValue(property, out string? name) ? name : "QmpClientOptions." + property;

    /// <summary>Throws unless every option is usable; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        foreach ((string name, TimeSpan value) in new[] { (nameof(ConnectTimeout), ConnectTimeout), (nameof(CommandTimeout),
            CommandTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"QmpClientOptions.{name} is {value}; it must be positive.");
            }
        }

        if (MaxMessageBytes is < 4096 or > 1024 * 1024 * 1024)
        {
            throw new ArgumentException($"QmpClientOptions.MaxMessageBytes is {MaxMessageBytes}; it must be between 4096 and 1 GiB.");
        }

        if (EventBacklog < 1)
        {
            throw new ArgumentException($"QmpClientOptions.EventBacklog is {EventBacklog}; it must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    /// <summary>A copy, setting names included, that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal QmpClientOptions Snapshot()
    {
        var copy = new QmpClientOptions
        {
            ConnectTimeout = ConnectTimeout, CommandTimeout = CommandTimeout, MaxMessageBytes = MaxMessageBytes,
                EventBacklog = EventBacklog,
            TimeProvider = TimeProvider,
        };
        foreach ((string name, string value) in SettingNames)
        {
            copy.SettingNames[name] = value;
        }

        return copy;
    }
}
