using System.Net.Sockets;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Qemu;

/// <summary>How a <see cref="QemuDriver"/> drives this host's QEMU VMs.</summary>
public sealed class QemuDriverOptions
{
    /// <summary>Gets the VMs the driver may drive; any other VM id is refused.</summary>
    public IList<QemuVm> Vms { get; } = [];

    /// <summary>
    /// Gets the directories where the VMs' file-backed RAM (<c>memory-backend-file</c>'s <c>mem-path</c>) may live.
    /// QEMU reports those paths and a RAM file is overwritten and deleted once its copy stops, so a path QEMU reports
    /// elsewhere (compared as real paths: <c>..</c> and symbolic links resolved) is not taken as residue, and is
    /// logged. With none, no RAM file is taken as residue.
    /// </summary>
    public IList<string> AllowedMemoryDirectories { get; } = [];

    /// <summary>
    /// Gets or sets whether a VM's QMP monitor may be a TCP address. Off by default: QMP over TCP has no
    /// authentication, so anyone who can reach the port controls that QEMU and what it reports; use a unix socket.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool AllowTcpQmp { get; set; }

    /// <summary>
    /// Gets or sets the private directory (created with mode 0700) for the unix sockets that carry the migration
    /// stream between QEMU and this process; QEMU's user must be able to reach it. Keep the path short: a unix socket
    /// path holds at most 107 bytes.
    /// </summary>
    public string RuntimeDirectory { get; set; } = string.Empty;

    /// <summary>Gets or sets QEMU's <c>max-bandwidth</c> for outgoing migrations, in bytes per second (QEMU's own default caps it at 128
    /// MiB/s).</summary>
    /// <value>64 GiB/s: in effect no cap, since the secure channel applies backpressure.</value>
    public long MaxBandwidth { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>Gets or sets QEMU's <c>downtime-limit</c>, or <see langword="null"/> to keep QEMU's (300 ms).</summary>
    public TimeSpan? DowntimeLimit { get; set; }

    /// <summary>Gets or sets how long QEMU may take to connect to the driver after <c>migrate</c>.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a migration may take to settle in QEMU after its stream ended: loading on the destination, completing
    /// or cancelling on the source, exiting after <c>quit</c>.</summary>
    /// <value>2 minutes.</value>
    public TimeSpan SettleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets how often an outgoing migration's statistics are read from QEMU for <see cref="Progress"/>.</summary>
    /// <value>1 second.</value>
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets what receives QEMU's statistics of outgoing migrations, or <see langword="null"/>.</summary>
    public IProgress<QemuMigrationInfo>? Progress { get; set; }

    /// <summary>Gets or sets how the driver talks QMP (timeouts, limits, clock).</summary>
    public QmpClientOptions Qmp { get; set; } = new();

    /// <summary>
    /// Gets what users set these options by, keyed by property name (<c>ConnectTimeout</c>, <c>SettleTimeout</c>), for a
    /// tool whose users set them otherwise (secmig: <c>--qemu-timeout</c>, <c>--settle-timeout</c>): a timeout's message
    /// tells them what to raise. A property not listed is named as <c>QemuDriverOptions.NAME</c>.
    /// </summary>
    public IDictionary<string, string> SettingNames { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The name users set <paramref name="property"/> by.</summary>
    internal string NameOf(string property) => SettingNames.TryGetValue(property,
        out string? name) ? name : "QemuDriverOptions." + property;

    /// <summary>Throws unless every option is usable; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(RuntimeDirectory))
        {
            throw new ArgumentException("QemuDriverOptions.RuntimeDirectory is empty; set it to a short private directory for the " +
                "migration sockets.");
        }

        string? duplicate = Vms.GroupBy(vm => vm.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new ArgumentException($"QemuDriverOptions.Vms names VM '{duplicate}' more than once; give each VM one monitor.");
        }

        if (!AllowTcpQmp && Vms.FirstOrDefault(vm => vm.Monitor is not UnixDomainSocketEndPoint) is { } exposed)
        {
            throw new ArgumentException($"VM '{exposed.Id}' has its QMP monitor at {QmpClient.Describe(exposed.Monitor)}, a TCP address: " +
                $"QMP over TCP has no authentication, so anyone who can reach that port controls the VM's QEMU and what it reports. " +
                "Give QEMU a unix socket monitor (-qmp unix:PATH,server=on,wait=off), or set QemuDriverOptions.AllowTcpQmp " +
                    "(--allow-tcp-qmp) if only this host can reach the port.");
        }

        if (AllowedMemoryDirectories.FirstOrDefault(directory => !Path.IsPathFullyQualified(directory)) is { } relative)
        {
            throw new ArgumentException($"QemuDriverOptions.AllowedMemoryDirectories holds '{relative}', which is not an absolute path; " +
                $"give the directory where the VMs' RAM files live as an absolute path.");
        }

        if (MaxBandwidth < 1024 * 1024)
        {
            throw new ArgumentException($"QemuDriverOptions.MaxBandwidth is {MaxBandwidth} bytes/s; it must be at least 1 MiB/s.");
        }

        if (DowntimeLimit is { } downtime && (downtime < TimeSpan.FromMilliseconds(1) || downtime > TimeSpan.FromSeconds(2000)))
        {
            throw new ArgumentException($"QemuDriverOptions.DowntimeLimit is {downtime}; QEMU allows 1 ms to 2000 s.");
        }

        foreach ((string name, TimeSpan value) in new[] { (nameof(ConnectTimeout), ConnectTimeout), (nameof(SettleTimeout), SettleTimeout),
            (nameof(StatisticsInterval), StatisticsInterval) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"QemuDriverOptions.{name} is {value}; it must be positive.");
            }
        }

        ArgumentNullException.ThrowIfNull(Qmp);
        Qmp.Validate();
    }

    /// <summary>A copy, lists and QMP options included, that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal QemuDriverOptions Snapshot()
    {
        var copy = new QemuDriverOptions
        {
            AllowTcpQmp = AllowTcpQmp, RuntimeDirectory = RuntimeDirectory, MaxBandwidth = MaxBandwidth, DowntimeLimit = DowntimeLimit,
            ConnectTimeout = ConnectTimeout, SettleTimeout = SettleTimeout, StatisticsInterval = StatisticsInterval, Progress = Progress,
            Qmp = Qmp.Snapshot(),
        };
        foreach (QemuVm vm in Vms)
        {
            copy.Vms.Add(vm.Snapshot());
        }

        foreach (string directory in AllowedMemoryDirectories)
        {
            copy.AllowedMemoryDirectories.Add(directory);
        }

        foreach ((string name, string value) in SettingNames)
        {
            copy.SettingNames[name] = value;
        }

        return copy;
    }
}
