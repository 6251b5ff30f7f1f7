namespace SecureMigration.Fuzz;

/// <summary>
/// One fuzz target: a parser of bytes a peer, a file or QEMU controls, driven with one input. A target returns
/// normally when the parser accepted the input or refused it with one of its documented exceptions, and the
/// invariants held; anything else escapes, so afl-fuzz records a crash.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>Gets the name used by <c>fuzz/run</c> and as the corpus folder (<c>fuzz/corpus/NAME</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Runs the parser on <paramref name="input"/> and checks its invariants.</summary>
    public abstract void Run(byte[] input);

    /// <summary>Real messages of this target's format, captured from the library's own writers, to seed the corpus.</summary>
    public abstract IEnumerable<(string Name, byte[] Bytes)> Seeds();
}
