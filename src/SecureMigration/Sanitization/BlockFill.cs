namespace SecureMigration.Sanitization;

/// <summary>
/// What one I/O slot writes into its block just before it writes the block: the pass's keystream or multi-byte pattern at
/// the block's offset, generated on the slot's own thread (<see cref="IoSlot"/>), so the slots of a pass generate their
/// blocks in parallel rather than one after another on the thread that issues the writes. A random pass's fill has a
/// keystream of its own (<see cref="AesCtrKeystream"/> is one instance per thread), with the pass's key; disposing it wipes
/// that copy of the key. A verification's slot uses one the same way, to generate what it expects to read back.
/// </summary>
internal sealed class BlockFill(SanitizationPass pass, AesCtrKeystream? keystream) : IDisposable
{
    /// <summary>A fill for one slot: with a copy of <paramref name="keystream"/> when the pass is random.</summary>
    public static BlockFill ForSlot(SanitizationPass pass, AesCtrKeystream? keystream) =>
        new(pass, pass.IsRandom ? keystream!.Clone() : null);

    /// <summary>Fills <paramref name="block"/> with what the pass writes at <paramref name="offset"/>.</summary>
    public void Fill(long offset, Span<byte> block) => PatternFill.Fill(pass, keystream, offset, block);

    /// <summary>The offset of the first byte of <paramref name="actual"/>, read at <paramref name="offset"/>, that is not what the
    /// pass writes there, if any (<see cref="WipeVerifier.FirstMismatch"/>, with <paramref name="scratch"/> for what it
    /// generates).</summary>
    public long? FirstMismatch(long offset, ReadOnlySpan<byte> actual, Span<byte> scratch) =>
        WipeVerifier.FirstMismatch(pass, keystream, offset, actual, scratch);

    public void Dispose() => keystream?.Dispose();
}
