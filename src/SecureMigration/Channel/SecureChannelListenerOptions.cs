using System.Collections.ObjectModel;
using System.Net;

namespace SecureMigration.Channel;

/// <summary>
/// Limits of a <see cref="SecureChannelListener"/> against floods of unauthenticated connections (ADR 0011): slots
/// in total and per source prefix, a handshake rate per prefix, a first-byte timeout, and a share of the slots
/// reserved for the sources this host expects.
/// </summary>
public sealed class SecureChannelListenerOptions
{
    /// <summary>The most entries <see cref="KnownSources"/> may hold.</summary>
    public const int MaxKnownSources = 1024;

    /// <summary>Gets or sets how many handshakes may be in progress at once on the listener.</summary>
    /// <value>The default is 64.</value>
    public int MaxConcurrentHandshakes { get; set; } = 64;

    /// <summary>
    /// Gets or sets how many handshakes one source prefix (see <see cref="IPv4PrefixLength"/> and
    /// <see cref="IPv6PrefixLength"/>), or one entry of <see cref="KnownSources"/>, may have in progress at once.
    /// </summary>
    /// <value>The default is 8.</value>
    public int MaxHandshakesPerPrefix { get; set; } = 8;

    /// <summary>Gets or sets the length of the prefix that groups IPv4 sources (IPv4-mapped IPv6 addresses included).</summary>
    /// <value>The default is 24 (a /24); 0 to 32 are allowed.</value>
    public int IPv4PrefixLength { get; set; } = 24;

    /// <summary>Gets or sets the length of the prefix that groups IPv6 sources.</summary>
    /// <value>The default is 64 (a /64, what one host or one customer usually holds); 0 to 128 are allowed.</value>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>Gets or sets how many handshakes a second one source prefix may start, on average (a token bucket's refill).</summary>
    /// <value>The default is 4.</value>
    public double HandshakesPerSecondPerPrefix { get; set; } = 4;

    /// <summary>Gets or sets how many handshakes one source prefix may start at once after a quiet spell (the bucket's size).</summary>
    /// <value>The default is 16.</value>
    public int HandshakeBurstPerPrefix { get; set; } = 16;

    /// <summary>
    /// Gets or sets how long a connection may stay silent before its first byte: a peer that connects and sends
    /// nothing loses its slot after this, long before the handshake timeout.
    /// </summary>
    /// <value>The default is 3 seconds; it must not exceed the factory's <see cref="SecureChannelOptions.HandshakeTimeout"/>.</value>
    public TimeSpan FirstByteTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets the sources this host expects (the addresses of the peers it serves): each entry is limited on its own,
    /// apart from the prefix it lies in, and may use the <see cref="ReservedForKnownSources"/> slots no other source may.
    /// </summary>
    /// <value>Empty by default; at most <see cref="MaxKnownSources"/> entries. IPv4-mapped IPv6 entries count as IPv4.</value>
    public Collection<IPNetwork> KnownSources { get; } = [];

    /// <summary>Gets or sets how many of the <see cref="MaxConcurrentHandshakes"/> slots only <see cref="KnownSources"/> may use.</summary>
    /// <value>The default is 16; 0 to <see cref="MaxConcurrentHandshakes"/> (all: only known sources are served).</value>
    public int ReservedForKnownSources { get; set; } = 16;

    /// <summary>
    /// Gets or sets how many channels one authenticated peer may keep waiting for their tickets (opened ahead of a migration): they
    /// hold no handshake slot once the peer proved who it is, only one of these, up to the factory's
    /// <see cref="SecureChannelOptions.TicketWaitTimeout"/>. A channel beyond them is closed once authenticated.
    /// </summary>
    /// <value>The default is 8.</value>
    public int MaxWaitingChannelsPerPeer { get; set; } = 8;

    /// <summary>Gets or sets how many channels all authenticated peers together may keep waiting for their tickets.</summary>
    /// <value>The default is 64.</value>
    public int MaxWaitingChannels { get; set; } = 64;

    /// <summary>Gets or sets how many established channels may wait for <see cref="SecureChannelListener.AcceptAsync"/>.</summary>
    /// <value>The default is 16.</value>
    public int AcceptBacklog { get; set; } = 16;

    /// <summary>Checks every option; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        Check(MaxConcurrentHandshakes is >= 1 and <= 65_536, nameof(MaxConcurrentHandshakes), MaxConcurrentHandshakes, "1 to 65,536");
        Check(MaxHandshakesPerPrefix >= 1 && MaxHandshakesPerPrefix <= MaxConcurrentHandshakes, nameof(MaxHandshakesPerPrefix),
            MaxHandshakesPerPrefix, $"1 to MaxConcurrentHandshakes ({MaxConcurrentHandshakes})");
        Check(IPv4PrefixLength is >= 0 and <= 32, nameof(IPv4PrefixLength), IPv4PrefixLength, "0 to 32");
        Check(IPv6PrefixLength is >= 0 and <= 128, nameof(IPv6PrefixLength), IPv6PrefixLength, "0 to 128");
        Check(HandshakesPerSecondPerPrefix is > 0 and <= 100_000, nameof(HandshakesPerSecondPerPrefix), HandshakesPerSecondPerPrefix,
            "above 0 and at most 100,000");
        Check(HandshakeBurstPerPrefix is >= 1 and <= 100_000, nameof(HandshakeBurstPerPrefix), HandshakeBurstPerPrefix, "1 to 100,000");
        Check(FirstByteTimeout > TimeSpan.Zero && FirstByteTimeout <= TimeSpan.FromMinutes(10), nameof(FirstByteTimeout), FirstByteTimeout,
            "above zero and at most 10 minutes");
        Check(KnownSources.Count <= MaxKnownSources, nameof(KnownSources), $"{KnownSources.Count} entries", $"at most {MaxKnownSources}");
        Check(ReservedForKnownSources >= 0 && ReservedForKnownSources <= MaxConcurrentHandshakes, nameof(ReservedForKnownSources),
            ReservedForKnownSources, $"0 to MaxConcurrentHandshakes ({MaxConcurrentHandshakes})");
        Check(AcceptBacklog is >= 1 and <= 65_536, nameof(AcceptBacklog), AcceptBacklog, "1 to 65,536");
        Check(MaxWaitingChannels is >= 1 and <= 65_536, nameof(MaxWaitingChannels), MaxWaitingChannels, "1 to 65,536");
        Check(MaxWaitingChannelsPerPeer >= 1 && MaxWaitingChannelsPerPeer <= MaxWaitingChannels, nameof(MaxWaitingChannelsPerPeer),
            MaxWaitingChannelsPerPeer, $"1 to MaxWaitingChannels ({MaxWaitingChannels})");
    }

    private static void Check(bool valid, string option, object value, string allowed)
    {
        if (!valid)
        {
            throw new ArgumentException($"SecureChannelListenerOptions.{option} is {value}; it must be {allowed}.", option);
        }
    }

    /// <summary>A copy, known sources included, that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal SecureChannelListenerOptions Snapshot()
    {
        var copy = new SecureChannelListenerOptions
        {
            MaxConcurrentHandshakes = MaxConcurrentHandshakes, MaxHandshakesPerPrefix = MaxHandshakesPerPrefix,
            IPv4PrefixLength = IPv4PrefixLength, IPv6PrefixLength = IPv6PrefixLength,
            HandshakesPerSecondPerPrefix = HandshakesPerSecondPerPrefix, HandshakeBurstPerPrefix = HandshakeBurstPerPrefix,
            FirstByteTimeout = FirstByteTimeout, ReservedForKnownSources = ReservedForKnownSources, AcceptBacklog = AcceptBacklog,
            MaxWaitingChannels = MaxWaitingChannels, MaxWaitingChannelsPerPeer = MaxWaitingChannelsPerPeer,
        };
        foreach (IPNetwork source in KnownSources)
        {
            copy.KnownSources.Add(source);
        }

        return copy;
    }
}
