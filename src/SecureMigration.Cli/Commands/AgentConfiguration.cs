using Microsoft.Extensions.Configuration;
using SecureMigration.Cli.Live;

namespace SecureMigration.Cli.Commands;

/// <summary>
/// The agent's settings as a configuration section (<c>SecureMigration:Agent</c> in an appsettings-style JSON file,
/// or <c>SECMIG_SecureMigration__Agent__Listen</c>-style environment variables). Each one stands for the option of
/// the same name; an option given on the command line wins over it.
/// </summary>
internal sealed class AgentConfiguration
{
    public const string Section = "SecureMigration:Agent";

    public string? Listen { get; set; }

    /// <summary>Gets or sets the served VMs: id → QMP monitor.</summary>
    public Dictionary<string, string> Vms { get; set; } = [];

    public string? Work { get; set; }

    public string? Control { get; set; }

    public string? ControlListen { get; set; }

    public List<string> ControlAllow { get; set; } = [];

    public string? Registry { get; set; }

    public string? Hooks { get; set; }

    public string? SanitizeMethod { get; set; }

    public List<string> MemoryDirs { get; set; } = [];

    public bool AllowTcpQmp { get; set; }

    public int? StallTimeout { get; set; }

    public int? CommitTimeout { get; set; }

    public int? QemuTimeout { get; set; }

    public int? SettleTimeout { get; set; }

    public int? MaxHandshakes { get; set; }

    public int? MaxHandshakesPerPrefix { get; set; }

    public double? HandshakeRate { get; set; }

    public int? HandshakeBurst { get; set; }

    public int? Ipv4Prefix { get; set; }

    public int? Ipv6Prefix { get; set; }

    public int? FirstByteTimeout { get; set; }

    public List<string> KnownSources { get; set; } = [];

    public int? ReservedHandshakes { get; set; }

    public string? Cert { get; set; }

    public string? Key { get; set; }

    public string? Ca { get; set; }

    public List<string> Crls { get; set; } = [];

    public List<string> AllowPeers { get; set; } = [];

    public List<string> PinSpki { get; set; } = [];

    public string? PskFile { get; set; }

    public string? PskIdentity { get; set; }

    public string? PskKeyring { get; set; }

    public bool SharedPsk { get; set; }

    public string? LocalName { get; set; }

    public bool Verbose { get; set; }

    /// <summary>Reads the section from <paramref name="file"/> (JSON) and the environment.</summary>
    public static AgentConfiguration Load(string file)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"--config '{file}' does not exist; give the agent's appsettings-style JSON file.", file);
        }

        IConfigurationRoot root = new ConfigurationBuilder()
            .AddJsonFile(Path.GetFullPath(file), optional: false)
            .AddEnvironmentVariables("SECMIG_")
            .Build();
        try
        {
            // A key the agent does not know is a typo or a setting from another version: refused, never ignored.
            return root.GetSection(Section).Get<AgentConfiguration>(binder => binder.ErrorOnUnknownConfiguration = true)
                ?? throw new ArgumentException($"--config '{file}' has no '{Section}' section (JSON: {{ \"SecureMigration\": {{ " +
                    $"\"Agent\": {{ ... }} }} }}).");
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"--config '{file}' (or a SECMIG_ environment variable) has a setting the agent does not know: " +
                $"{e.Message} " +
                "Check its spelling against the options of 'secmig agent --help' (Listen, Vms, Work, MaxHandshakesPerPrefix, ...).", e);
        }
    }

    /// <summary>
    /// Expands <c>secmig agent --config FILE</c>: the file's settings become the options they stand for, after the
    /// ones given on the command line (which win). Any other command line comes back unchanged.
    /// </summary>
    public static string[] ExpandCommandLine(string[] args)
    {
        int at = Array.IndexOf(args, "--config");
        if (args.Length == 0 || args[0] != "agent" || at < 0)
        {
            return args;
        }

        if (at == args.Length - 1)
        {
            throw new ArgumentException("--config needs a file: secmig agent --config agent.json");
        }

        string file = args[at + 1];
        var given = new HashSet<string>(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)), StringComparer.Ordinal);
        return [.. args, .. Load(file).ToArguments(given, Path.GetDirectoryName(Path.GetFullPath(file))!)];
    }

    /// <summary>
    /// The command-line tokens these settings stand for, leaving out every option <paramref name="given"/> already has.
    /// Relative paths are taken relative to the configuration file's directory.
    /// </summary>
    public IEnumerable<string> ToArguments(IReadOnlySet<string> given, string baseDirectory)
    {
        var tokens = new List<string>();
        void Single(string option, string? value, bool isPath = false)
        {
            if (value is not null && !given.Contains(option))
            {
                tokens.AddRange([option, isPath ? Path.GetFullPath(value, baseDirectory) : value]);
            }
        }

        void Many(string option, IEnumerable<string> values)
        {
            if (!given.Contains(option))
            {
                foreach (string value in values)
                {
                    tokens.AddRange([option, value]);
                }
            }
        }

        string? Number(IFormattable? value) => value?.ToString(null, System.Globalization.CultureInfo.InvariantCulture);

        Single("--listen", Listen);
        Many("--vm", Vms.Select(vm => $"{vm.Key}={vm.Value}"));
        Single("--work", Work, isPath: true);
        Single("--control", Control, isPath: true);
        Single("--control-listen", ControlListen);
        Many("--control-allow", ControlAllow);
        Single("--registry", Registry, isPath: Registry is not null && !RegistryLocation.IsEtcd(Registry));
        Single("--hooks", Hooks, isPath: true);
        Single("--sanitize-method", SanitizeMethod);
        Many("--memory-dir", MemoryDirs.Select(directory => Path.GetFullPath(directory, baseDirectory)));
        Single("--stall-timeout", Number(StallTimeout));
        Single("--commit-timeout", Number(CommitTimeout));
        Single("--qemu-timeout", Number(QemuTimeout));
        Single("--settle-timeout", Number(SettleTimeout));
        Single("--max-handshakes", Number(MaxHandshakes));
        Single("--max-handshakes-per-prefix", Number(MaxHandshakesPerPrefix));
        Single("--handshake-rate", Number(HandshakeRate));
        Single("--handshake-burst", Number(HandshakeBurst));
        Single("--ipv4-prefix", Number(Ipv4Prefix));
        Single("--ipv6-prefix", Number(Ipv6Prefix));
        Single("--first-byte-timeout", Number(FirstByteTimeout));
        Many("--known-source", KnownSources);
        Single("--reserved-handshakes", Number(ReservedHandshakes));
        Single("--cert", Cert, isPath: true);
        Single("--key", Key, isPath: true);
        Single("--ca", Ca, isPath: true);
        Many("--crl", Crls.Select(crl => Path.GetFullPath(crl, baseDirectory)));
        Many("--allow-peer", AllowPeers);
        Many("--pin-spki", PinSpki);
        Single("--psk-file", PskFile, isPath: true);
        Single("--psk-identity", PskIdentity);
        Single("--psk-keyring", PskKeyring, isPath: true);
        Single("--local-name", LocalName);
        if (AllowTcpQmp && !given.Contains("--allow-tcp-qmp"))
        {
            tokens.Add("--allow-tcp-qmp");
        }

        if (Verbose && !given.Contains("--verbose"))
        {
            tokens.Add("--verbose");
        }

        if (SharedPsk && !given.Contains("--shared-psk"))
        {
            tokens.Add("--shared-psk");
        }

        return tokens;
    }
}
