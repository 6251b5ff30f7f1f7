using System.CommandLine;
using Microsoft.Extensions.Logging;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Qemu;

namespace SecureMigration.Cli.Commands;

/// <summary>The options 'secmig agent' and 'secmig migrate' share: state, registry, hooks, residue, timeouts and credentials.</summary>
internal sealed class LiveOptions
{
    /// <summary>What --work is for 'secmig agent' and 'migrate'.</summary>
    public const string HostWork = "This host's state directory: journal, audit log, admission state and the private migration sockets " +
        "(keep its path short).";

    private readonly bool _credentialsRequired;

    /// <summary>Creates the options.</summary>
    /// <param name="workDescription">What --work is for the command.</param>
    /// <param name="credentialsRequired">Whether the command always needs credentials (agent, migrate) or only on some paths
    /// (recover).</param>
    public LiveOptions(string workDescription = HostWork, bool credentialsRequired = true)
    {
        Work = WorkOption.Create(workDescription);
        _credentialsRequired = credentialsRequired;
    }

    public Option<string> Work { get; }

    public Option<string?> Registry { get; } = new("--registry")
    {
        Description = "The ownership registry both hosts share: a directory, for example on the storage that holds the VM's disks, " +
            "or the cluster's etcd as etcd://HOST:PORT[,HOST:PORT...] (reached with --cert/--key/--ca). Default: WORK/ownership, " +
            "which serves only when both hosts see the same WORK.",
    };

    public Option<string?> Hooks { get; } = new("--hooks")
    {
        Description = "A directory whose pre-migrate/ and post-migrate/ executables run with the migration's facts in SECMIG_* " +
            "variables; a non-zero exit vetoes.",
    };

    public Option<string> SanitizeMethod { get; } = new("--sanitize-method")
    {
        Description = "How this host wipes what a stopped copy leaves (the VM's RAM file, --source-image files): zero, ones, random, " +
            "nist-clear, dod or gutmann.",
        DefaultValueFactory = _ => "nist-clear",
    };

    public Option<string[]> MemoryDirectories { get; } = new("--memory-dir")
    {
        Description = "A directory where the VMs' file-backed RAM (memory-backend-file mem-path) lives; repeat it for several. Only a " +
            "RAM file QEMU reports inside one (as a real path: '..' and symbolic links resolved) is sanitized as residue; QEMU's answers " +
                "are not trusted.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> AllowTcpQmp { get; } = new("--allow-tcp-qmp")
    {
        Description = "Allow a QMP monitor at tcp:HOST:PORT. QMP over TCP has no authentication: whoever reaches the port controls that " +
            "QEMU. Use only when nobody else can reach it; prefer a unix socket.",
    };

    public Option<int> StallTimeout { get; } = new("--stall-timeout")
    {
        Description = "Seconds the migration stream may carry nothing before the migration rolls back.",
        DefaultValueFactory = _ => 30,
    };

    public Option<int> CommitTimeout { get; } = new("--commit-timeout")
    {
        Description = "Seconds each side waits for the other's commit message before the ownership registry decides.",
        DefaultValueFactory = _ => 30,
    };

    public Option<int> QemuTimeout { get; } = new("--qemu-timeout")
    {
        Description = "Seconds QEMU may take to answer a QMP command, to accept the monitor connection, or to connect its migration " +
            "stream.",
        DefaultValueFactory = _ => 30,
    };

    public Option<int> SettleTimeout { get; } = new("--settle-timeout")
    {
        Description = "Seconds a migration may take to settle in QEMU after its stream ended (loading on the destination, completing on " +
            "the source) and QEMU to exit after 'quit'.",
        DefaultValueFactory = _ => 120,
    };

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log every library event, not only warnings." };

    public CredentialOptions Credentials { get; } = new();

    /// <summary>Gets every option of these, the credentials' included.</summary>
    public IReadOnlyList<Option> All => [.. HostOptions, .. Credentials.All];

    private Option[] HostOptions => [Work, Registry, Hooks, SanitizeMethod, MemoryDirectories, AllowTcpQmp, StallTimeout, CommitTimeout,
        QemuTimeout, SettleTimeout, Verbose];

    public void AddTo(Command command)
    {
        SanitizeMethod.AcceptOnlyFromAmong([.. SanitizationMethodNames.All.Keys]);
        foreach (Option<int> seconds in new[] { StallTimeout, CommitTimeout, QemuTimeout, SettleTimeout })
        {
            seconds.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() < 1)
                {
                    result.AddError($"{seconds.Name} must be at least 1 second.");
                }
            });
        }

        foreach (Option option in HostOptions)
        {
            command.Options.Add(option);
        }

        Credentials.AddTo(command, _credentialsRequired);
    }

    public LiveHostSettings Settings(ParseResult parse, IReadOnlyList<QemuVm> vms, Action<Channel.SecureChannelOptions>? configureChannel,
        IProgress<QemuMigrationInfo>? qemuProgress, ILoggerFactory logging)
    {
        string work = Path.GetFullPath(parse.GetValue(Work)!);
        Channel.SecureChannelOptions channel = Credentials.Load(parse);
        configureChannel?.Invoke(channel);
        return new LiveHostSettings(
            work,
            RegistryLocation.Normalize(parse.GetValue(Registry) ?? Path.Combine(work, "ownership")),
            channel,
            vms,
            parse.GetValue(Hooks),
            SanitizationMethodNames.All[parse.GetValue(SanitizeMethod)!],
            [.. (parse.GetValue(MemoryDirectories) ?? []).Select(directory => Path.GetFullPath(directory))],
            parse.GetValue(AllowTcpQmp),
            TimeSpan.FromSeconds(parse.GetValue(StallTimeout)),
            TimeSpan.FromSeconds(parse.GetValue(CommitTimeout)),
            TimeSpan.FromSeconds(parse.GetValue(QemuTimeout)),
            TimeSpan.FromSeconds(parse.GetValue(SettleTimeout)),
            qemuProgress,
            logging);
    }

    public ILoggerFactory CreateLogging(ParseResult parse) =>
        ConsoleLogging.Create(parse.GetValue(Verbose) ? LogLevel.Information : LogLevel.Warning);
}
