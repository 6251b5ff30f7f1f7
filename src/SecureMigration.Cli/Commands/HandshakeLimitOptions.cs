using System.CommandLine;
using SecureMigration.Channel;

namespace SecureMigration.Cli.Commands;

/// <summary>
/// The handshake limits 'secmig agent' and 'secmig tunnel accept' share (ADR 0011): slots in total and per source
/// prefix, a rate per prefix, a first-byte timeout, and slots reserved for known sources.
/// </summary>
internal sealed class HandshakeLimitOptions
{
    private static readonly SecureChannelListenerOptions Defaults = new();

    public Option<int> MaxHandshakes { get; } = new("--max-handshakes")
    {
        Description = "Handshakes in progress at once, in total.",
        DefaultValueFactory = _ => Defaults.MaxConcurrentHandshakes,
    };

    public Option<int> MaxPerPrefix { get; } = new("--max-handshakes-per-prefix")
    {
        Description = "Handshakes in progress at once from one source prefix (see --ipv4-prefix, --ipv6-prefix) or one --known-source.",
        DefaultValueFactory = _ => Defaults.MaxHandshakesPerPrefix,
    };

    public Option<double> Rate { get; } = new("--handshake-rate")
    {
        Description = "Handshakes a second one source prefix may start, on average.",
        DefaultValueFactory = _ => Defaults.HandshakesPerSecondPerPrefix,
    };

    public Option<int> Burst { get; } = new("--handshake-burst")
    {
        Description = "Handshakes one source prefix may start at once after a quiet spell.",
        DefaultValueFactory = _ => Defaults.HandshakeBurstPerPrefix,
    };

    public Option<int> IPv4Prefix { get; } = new("--ipv4-prefix")
    {
        Description = "Prefix length that groups IPv4 sources (IPv4-mapped IPv6 included) for the per-prefix limits.",
        DefaultValueFactory = _ => Defaults.IPv4PrefixLength,
    };

    public Option<int> IPv6Prefix { get; } = new("--ipv6-prefix")
    {
        Description = "Prefix length that groups IPv6 sources for the per-prefix limits.",
        DefaultValueFactory = _ => Defaults.IPv6PrefixLength,
    };

    public Option<int> FirstByteTimeout { get; } = new("--first-byte-timeout")
    {
        Description = "Seconds a new connection may stay silent before it loses its handshake slot.",
        DefaultValueFactory = _ => (int)Defaults.FirstByteTimeout.TotalSeconds,
    };

    public Option<string[]> KnownSource { get; } = new("--known-source")
    {
        Description = "An address, a network (ADDRESS/LENGTH) or a host name of a source this host serves; repeat for several. " +
            "Known sources (these, and the --allow-peer names that resolve as host names) are limited apart from their prefix " +
            "and may use the reserved slots.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<int> Reserved { get; } = new("--reserved-handshakes")
    {
        Description = "Of --max-handshakes, the slots only known sources may use.",
        DefaultValueFactory = _ => Defaults.ReservedForKnownSources,
    };

    public void AddTo(Command command)
    {
        Option[] all = [MaxHandshakes, MaxPerPrefix, Rate, Burst, IPv4Prefix, IPv6Prefix, FirstByteTimeout, KnownSource, Reserved];
        foreach (Option option in all)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The listener's limits, with the known sources resolved.</summary>
    /// <param name="parse">The command line.</param>
    /// <param name="peerNames">The --allow-peer names; those that resolve as host names are known sources too.</param>
    /// <param name="cancellationToken">Stops resolving.</param>
    /// <exception cref="ArgumentException">A limit is out of range (named by its option) or a --known-source does not resolve.</exception>
    public async Task<SecureChannelListenerOptions> LoadAsync(ParseResult parse, IEnumerable<string> peerNames,
        CancellationToken cancellationToken)
    {
        var limits = new SecureChannelListenerOptions
        {
            MaxConcurrentHandshakes = parse.GetValue(MaxHandshakes),
            MaxHandshakesPerPrefix = parse.GetValue(MaxPerPrefix),
            HandshakesPerSecondPerPrefix = parse.GetValue(Rate),
            HandshakeBurstPerPrefix = parse.GetValue(Burst),
            IPv4PrefixLength = parse.GetValue(IPv4Prefix),
            IPv6PrefixLength = parse.GetValue(IPv6Prefix),
            FirstByteTimeout = TimeSpan.FromSeconds(parse.GetValue(FirstByteTimeout)),
            ReservedForKnownSources = parse.GetValue(Reserved),
        };
        string[] configured = parse.GetValue(KnownSource) ?? [];
        foreach (System.Net.IPNetwork network in await KnownSources.ResolveAsync(configured, peerNames, cancellationToken))
        {
            limits.KnownSources.Add(network);
        }

        try
        {
            limits.Validate();
        }
        catch (ArgumentException e)
        {
            // The library names its property; the operator typed an option.
            string problem = e.Message[e.Message.IndexOf(" is ", StringComparison.Ordinal)..].Split(" (Parameter", 2)[0];
            throw new ArgumentException(OptionNamed(e.ParamName).Name + problem, e);
        }

        return limits;
    }

    private Option OptionNamed(string? property) => property switch
    {
        nameof(SecureChannelListenerOptions.MaxConcurrentHandshakes) => MaxHandshakes,
        nameof(SecureChannelListenerOptions.MaxHandshakesPerPrefix) => MaxPerPrefix,
        nameof(SecureChannelListenerOptions.HandshakesPerSecondPerPrefix) => Rate,
        nameof(SecureChannelListenerOptions.HandshakeBurstPerPrefix) => Burst,
        nameof(SecureChannelListenerOptions.IPv4PrefixLength) => IPv4Prefix,
        nameof(SecureChannelListenerOptions.IPv6PrefixLength) => IPv6Prefix,
        nameof(SecureChannelListenerOptions.FirstByteTimeout) => FirstByteTimeout,
        nameof(SecureChannelListenerOptions.KnownSources) => KnownSource,
        _ => Reserved,
    };
}
