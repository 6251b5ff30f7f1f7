namespace SecureMigration.Channel.Limits;

/// <summary>Why a listener closed a connection before its handshake could finish; the metric's <c>reason</c> tag.</summary>
internal enum HandshakeRefusal
{
    /// <summary>Every slot this source may use is taken (the slots reserved for known sources included, for a known one).</summary>
    SlotsFull,

    /// <summary>The source's prefix (or known-source entry) has its most handshakes in progress.</summary>
    PrefixSlotsFull,

    /// <summary>The source's prefix started handshakes faster than its rate allows.</summary>
    PrefixRate,

    /// <summary>The peer connected and sent nothing within the first-byte timeout.</summary>
    FirstByteTimeout,

    /// <summary>The authenticated peer (or everyone) already keeps the most channels waiting for their tickets.</summary>
    WaitingFull,
}
