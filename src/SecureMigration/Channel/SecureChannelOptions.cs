using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Channel;

/// <summary>Settings of a secure-channel endpoint.</summary>
public sealed class SecureChannelOptions
{
    /// <summary>Gets or sets this end's credentials: <see cref="X509ChannelCredentials"/> or <see cref="PskChannelCredentials"/>.</summary>
    /// <value>Required; there is no default.</value>
    public ChannelCredentials? Credentials { get; set; }

    /// <summary>Gets or sets who is accepted as the peer.</summary>
    /// <value>The default accepts any peer that authenticates (the connecting end expects the ticket's destination).</value>
    public PeerPolicy PeerPolicy { get; set; } = new();

    /// <summary>
    /// Gets or sets the identity this end answers to in tickets. A ticket whose destination is another name is refused.
    /// </summary>
    /// <value>The default is the credentials' <see cref="ChannelCredentials.LocalIdentity"/>.</value>
    public string? LocalIdentity { get; set; }

    /// <summary>Gets or sets how long the TLS handshake may take, and then the ticket's exchange (at the source, counted from the
    /// ticket's sending; at the destination, from the ticket's arrival: its wait for it is <see cref="TicketWaitTimeout"/>).</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a destination waits for the ticket on a channel whose TLS handshake ended (a source opens its
    /// channel ahead of its migration, and an agent keeps one open for its next migration to the same destination); a source
    /// sends its ticket on such a channel only while less than half of this has passed since it began the handshake. Both ends
    /// should use the same value.
    /// </summary>
    /// <value>The default is 30 seconds; at least twice <see cref="HandshakeTimeout"/> and at most 20 minutes.</value>
    public TimeSpan TicketWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest ticket lifetime accepted; a ticket valid for longer is refused.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan MaxTicketLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how far this host's clock and the source's may disagree: a ticket that expired less than this long
    /// ago by this host's clock is still accepted, and so is one issued up to this long in this host's future (its expiry
    /// may lie up to <see cref="MaxTicketLifetime"/> plus this skew ahead).
    /// </summary>
    /// <value>The default is 30 seconds; 0 to 5 minutes are allowed.</value>
    public TimeSpan TicketClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many ticket nonces the replay cache remembers.</summary>
    /// <value>The default is 10,000.</value>
    public int ReplayCacheCapacity { get; set; } = 10_000;

    /// <summary>Gets or sets an extra check of incoming tickets, such as the ownership epoch.</summary>
    /// <value>The default is <see langword="null"/>: no extra check.</value>
    public ITicketValidator? TicketValidator { get; set; }

    /// <summary>Gets or sets the clock for certificate validity, ticket expiry and timeouts.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal ChannelCredentials ValidatedCredentials =>
        Credentials ?? throw new InvalidOperationException("SecureChannelOptions.Credentials is not set. Set X509ChannelCredentials or " +
            "PskChannelCredentials.");

    internal string EffectiveLocalIdentity => LocalIdentity ?? ValidatedCredentials.LocalIdentity;

    /// <summary>Checks every option; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        _ = ValidatedCredentials;
        ArgumentNullException.ThrowIfNull(PeerPolicy, nameof(PeerPolicy));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"SecureChannelOptions.HandshakeTimeout is {HandshakeTimeout}; it must be above zero and at most " +
                $"10 minutes.", nameof(HandshakeTimeout));
        }

        if (TicketWaitTimeout < 2 * HandshakeTimeout || TicketWaitTimeout > TimeSpan.FromMinutes(20))
        {
            throw new ArgumentException($"SecureChannelOptions.TicketWaitTimeout is {TicketWaitTimeout}; it must be at least twice the " +
                $"handshake timeout ({HandshakeTimeout}: a source sends its ticket within half of it, and the ticket's check then has " +
                "the handshake timeout) and at most 20 minutes.", nameof(TicketWaitTimeout));
        }

        if (MaxTicketLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException($"SecureChannelOptions.MaxTicketLifetime is {MaxTicketLifetime}; it must be above zero.",
                nameof(MaxTicketLifetime));
        }

        if (TicketClockSkew < TimeSpan.Zero || TicketClockSkew > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"SecureChannelOptions.TicketClockSkew is {TicketClockSkew}; it must be 0 to 5 minutes " +
                $"(synchronize the hosts' clocks).",
                nameof(TicketClockSkew));
        }

        if (ReplayCacheCapacity is < 1 or > 10_000_000)
        {
            throw new ArgumentException($"SecureChannelOptions.ReplayCacheCapacity is {ReplayCacheCapacity}; it must be 1 to 10,000,000.",
                nameof(ReplayCacheCapacity));
        }

        if (PeerPolicy.MaxChainLength is < 1 or > 16)
        {
            throw new ArgumentException($"PeerPolicy.MaxChainLength is {PeerPolicy.MaxChainLength}; it must be 1 to 16.",
                nameof(PeerPolicy));
        }
    }

    /// <summary>A copy, peer policy included, that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal SecureChannelOptions Snapshot() => new()
    {
        Credentials = Credentials, PeerPolicy = PeerPolicy.Snapshot(), LocalIdentity = LocalIdentity, HandshakeTimeout = HandshakeTimeout,
        TicketWaitTimeout = TicketWaitTimeout, MaxTicketLifetime = MaxTicketLifetime, TicketClockSkew = TicketClockSkew,
        ReplayCacheCapacity = ReplayCacheCapacity, TicketValidator = TicketValidator, TimeProvider = TimeProvider,
    };
}
