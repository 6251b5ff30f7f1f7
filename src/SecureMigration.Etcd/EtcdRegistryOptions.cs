using SecureMigration.Identity;

namespace SecureMigration.Etcd;

/// <summary>Where the etcd cluster is and how this host proves itself to it.</summary>
public sealed class EtcdRegistryOptions
{
    /// <summary>The scheme of a registry connection string: <c>etcd://host1:2379,host2:2379</c>.</summary>
    public const string Scheme = "etcd://";

    /// <summary>The key prefix of a registry that names none.</summary>
    public const string DefaultKeyPrefix = "/securemigration/";

    /// <summary>The most endpoints a connection string may name.</summary>
    public const int MaxEndpoints = 16;

    /// <summary>Gets the cluster's client endpoints (TLS is always on): host and port of each member.</summary>
    public IList<EtcdEndpoint> Endpoints { get; } = [];

    /// <summary>
    /// Gets or sets this host's X.509 credentials: its certificate is the client certificate etcd checks
    /// (<c>--client-cert-auth</c>), its key signs every ownership record it writes, and its CA bundle must vouch for the
    /// etcd members and for every record's signer.
    /// </summary>
    public X509ChannelCredentials? Credentials { get; set; }

    /// <summary>Gets or sets the prefix of every key the registry writes, so several clusters can share one etcd.</summary>
    /// <value><c>/securemigration/</c>.</value>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>Gets or sets how long one request to etcd may take before the registry reports it unreachable.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the CA (PEM, one or more certificates) that issued the etcd members' certificates, when it is not the
    /// hosts' CA: members must then chain to it alone, so no hypervisor host's certificate can stand for a member even where
    /// etcd runs on the hypervisor hosts and their names are endpoints. <see langword="null"/>: the hosts' CA.
    /// </summary>
    /// <value><see langword="null"/>; in a connection string, <c>member-ca=PATH</c>.</value>
    public string? MemberCaPem { get; set; }

    /// <summary>
    /// Gets or sets the time to live of a migration's lease: how long after its orchestrator dies (or loses etcd) the
    /// migration stops holding its VM in the registry. Whole seconds, etcd's unit.
    /// </summary>
    /// <value>10 seconds; in a connection string, <c>?lease-ttl=SECONDS</c>.</value>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reads a connection string, <c>etcd://host1:2379,host2:2379,host3:2379</c> (a port defaults to 2379), into
    /// <see cref="Endpoints"/>, with an optional <c>?lease-ttl=SECONDS</c> for <see cref="LeaseTtl"/>.
    /// </summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="credentials">This host's credentials.</param>
    /// <returns>The options.</returns>
    /// <exception cref="FormatException">The string is not such a list; the message says what is wrong.</exception>
    public static EtcdRegistryOptions Parse(string connectionString, X509ChannelCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(credentials);
        if (!connectionString.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"An etcd registry is named '{Scheme}host:port[,host:port...]', not " +
                $"'{Text.UntrustedText.Bound(connectionString, 80)}'.");
        }

        string list = connectionString[Scheme.Length..];
        var options = new EtcdRegistryOptions { Credentials = credentials };
        if (list.IndexOf('?', StringComparison.Ordinal) is int query and >= 0)
        {
            foreach (string option in list[(query + 1)..].Split('&'))
            {
                ParseOption(options, option);
            }

            list = list[..query];
        }

        string[] hosts = list.Split(',', StringSplitOptions.TrimEntries);
        if (hosts.Length > MaxEndpoints)
        {
            throw new FormatException($"The etcd registry names {hosts.Length} endpoints; at most {MaxEndpoints} are allowed.");
        }

        foreach (string host in hosts)
        {
            options.Endpoints.Add(EtcdEndpoint.Parse(host));
        }

        return options;
    }

    private const string Options = "'lease-ttl=SECONDS' (2 to 300) and 'member-ca=PATH' (a PEM file)";

    private static void ParseOption(EtcdRegistryOptions options, string option)
    {
        const string LeaseTtl = "lease-ttl=", MemberCa = "member-ca=";
        if (option.StartsWith(LeaseTtl, StringComparison.Ordinal) && option.Length <= LeaseTtl.Length + 3 &&
            int.TryParse(option.AsSpan(LeaseTtl.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int seconds))
        {
            options.LeaseTtl = TimeSpan.FromSeconds(seconds);
        }
        else if (option.StartsWith(MemberCa, StringComparison.Ordinal) && option.Length > MemberCa.Length)
        {
            string path = option[MemberCa.Length..];
            try
            {
                options.MemberCaPem = new FileInfo(path).Length <= 1 << 20 ? File.ReadAllText(path)
                    : throw new IOException("it is larger than 1 MiB");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new FormatException($"The etcd members' CA file '{Text.UntrustedText.Bound(path, 200)}' cannot be read: " +
                    $"{e.Message}", e);
            }
        }
        else
        {
            throw new FormatException($"The etcd registry's options are {Options}, not '{Text.UntrustedText.Bound(option, 80)}'.");
        }
    }

    /// <summary>Throws unless the options are usable; the message names the option and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        if (Endpoints.Count is 0 or > MaxEndpoints)
        {
            throw new ArgumentException($"EtcdRegistryOptions.Endpoints names {Endpoints.Count} endpoints; give 1 to {MaxEndpoints}.");
        }

        if (Credentials is null)
        {
            throw new ArgumentException("EtcdRegistryOptions.Credentials is not set: etcd is reached with this host's X.509 " +
                "certificate (mutual TLS), and its key signs the ownership records.");
        }

        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix[0] != '/' || KeyPrefix[^1] != '/' || KeyPrefix.Length > 128)
        {
            throw new ArgumentException($"EtcdRegistryOptions.KeyPrefix '{Text.UntrustedText.Bound(KeyPrefix, 160)}' must start and end " +
                "with '/' and be at most 128 characters.");
        }

        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"EtcdRegistryOptions.OperationTimeout {OperationTimeout} is out of range: (0, 5 min].");
        }

        if (LeaseTtl < TimeSpan.FromSeconds(2) || LeaseTtl > TimeSpan.FromMinutes(5) || LeaseTtl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException($"EtcdRegistryOptions.LeaseTtl {LeaseTtl} is out of range: whole seconds from 2 to 300.");
        }

        if (MemberCaPem is not null && !HoldsCertificates(MemberCaPem))
        {
            throw new ArgumentException("EtcdRegistryOptions.MemberCaPem holds no PEM certificate; give the CA that issued the etcd " +
                "members' certificates.");
        }
    }

    private static bool HoldsCertificates(string pem)
    {
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection anchors = EtcdTls.LoadAnchors(pem);
        foreach (System.Security.Cryptography.X509Certificates.X509Certificate2 anchor in anchors)
        {
            anchor.Dispose();
        }

        return anchors.Count > 0;
    }

    /// <summary>A copy that later changes to this instance do not reach.</summary>
    /// <returns>The copy.</returns>
    internal EtcdRegistryOptions Snapshot()
    {
        var copy = new EtcdRegistryOptions { Credentials = Credentials, KeyPrefix = KeyPrefix, OperationTimeout = OperationTimeout,
            LeaseTtl = LeaseTtl, MemberCaPem = MemberCaPem };
        foreach (EtcdEndpoint endpoint in Endpoints)
        {
            copy.Endpoints.Add(endpoint);
        }

        return copy;
    }
}
