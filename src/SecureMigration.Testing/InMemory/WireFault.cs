namespace SecureMigration.Testing.InMemory;

/// <summary>One fault a <see cref="FaultInjectingPipe"/> injects into the bytes it carries, at a byte offset of the stream.</summary>
public sealed record WireFault(WireFaultKind Kind, long At)
{
    /// <summary>Gets the fault that never happens: the bytes pass unchanged.</summary>
    public static WireFault None { get; } = new(WireFaultKind.None, long.MaxValue);

    /// <summary>The stream ends cleanly after <paramref name="at"/> bytes, in both directions of the link.</summary>
    public static WireFault TruncateAt(long at) => new(WireFaultKind.Truncate, at);

    /// <summary>The byte at offset <paramref name="at"/> arrives inverted.</summary>
    public static WireFault FlipByteAt(long at) => new(WireFaultKind.FlipByte, at);

    /// <summary>Once the receiver consumed <paramref name="at"/> bytes, its reads never complete until cancelled.</summary>
    public static WireFault StallAt(long at) => new(WireFaultKind.Stall, at);

    /// <summary>The link breaks after <paramref name="at"/> bytes: both ends see an <see cref="IOException"/>.</summary>
    public static WireFault AbortAt(long at) => new(WireFaultKind.Abort, at);
}

/// <summary>What a <see cref="WireFault"/> does to the stream.</summary>
public enum WireFaultKind
{
    /// <summary>The bytes pass unchanged.</summary>
    None,
    /// <summary>The stream ends cleanly at the offset.</summary>
    Truncate,
    /// <summary>The byte at the offset arrives inverted.</summary>
    FlipByte,
    /// <summary>Reads stop completing at the offset until cancelled.</summary>
    Stall,
    /// <summary>The link breaks at the offset with an <see cref="IOException"/>.</summary>
    Abort,
}
