using SecureMigration.RateLimiting;

namespace SecureMigration.Channel.Limits;

/// <summary>
/// One group the handshake limits count by: a source prefix, a known-source entry, or every source the limiter has
/// no room to track. The limiter's lock guards it.
/// </summary>
internal sealed class HandshakeSource(string name, bool isKnown, TokenBucket rate)
{
    /// <summary>Gets how the group is named in logs: its network, or "other sources".</summary>
    public string Name { get; } = name;

    /// <summary>Gets whether the group is a known-source entry, which may use the reserved slots.</summary>
    public bool IsKnown { get; } = isKnown;

    /// <summary>Gets the group's handshake rate.</summary>
    public TokenBucket Rate { get; } = rate;

    /// <summary>Gets or sets the group's handshakes in progress.</summary>
    public int InProgress { get; set; }

    /// <summary>Gets whether the group holds nothing worth keeping: no handshake in progress and its rate refilled.</summary>
    public bool IsIdle => InProgress == 0 && Rate.IsFull;
}
