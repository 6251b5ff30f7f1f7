namespace SecureMigration.Channel;

/// <summary>Limits of a <see cref="SecureChannelListener"/> against floods of unauthenticated connections.</summary>
public sealed class SecureChannelListenerOptions
{
    /// <summary>Gets or sets how many handshakes may be in progress at once on the listener.</summary>
    /// <value>The default is 64.</value>
    public int MaxConcurrentHandshakes { get; set; } = 64;

    /// <summary>Gets or sets how many handshakes one remote address may have in progress at once.</summary>
    /// <value>The default is 8.</value>
    public int MaxHandshakesPerAddress { get; set; } = 8;

    /// <summary>Gets or sets how many established channels may wait for <see cref="SecureChannelListener.AcceptAsync"/>.</summary>
    /// <value>The default is 16.</value>
    public int AcceptBacklog { get; set; } = 16;

    internal void Validate()
    {
        if (MaxConcurrentHandshakes < 1)
        {
            throw new ArgumentException($"SecureChannelListenerOptions.MaxConcurrentHandshakes is {MaxConcurrentHandshakes}; it must be at least 1.", nameof(MaxConcurrentHandshakes));
        }

        if (MaxHandshakesPerAddress < 1 || MaxHandshakesPerAddress > MaxConcurrentHandshakes)
        {
            throw new ArgumentException($"SecureChannelListenerOptions.MaxHandshakesPerAddress is {MaxHandshakesPerAddress}; it must be 1 to MaxConcurrentHandshakes ({MaxConcurrentHandshakes}).", nameof(MaxHandshakesPerAddress));
        }

        if (AcceptBacklog < 1)
        {
            throw new ArgumentException($"SecureChannelListenerOptions.AcceptBacklog is {AcceptBacklog}; it must be at least 1.", nameof(AcceptBacklog));
        }
    }
}
