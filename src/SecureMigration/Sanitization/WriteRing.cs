namespace SecureMigration.Sanitization;

/// <summary>
/// The writes a pass has in flight, oldest first, with the chunk each one writes: a fixed ring, so issuing and
/// retiring a write allocate nothing.
/// </summary>
internal sealed class WriteRing(int depth)
{
    private readonly ValueTask[] _writes = new ValueTask[depth];
    private readonly WipeChunk[] _chunks = new WipeChunk[depth];
    private int _head;

    /// <summary>Gets how many writes are in flight.</summary>
    public int InFlight { get; private set; }

    /// <summary>Gets whether no other write may be issued before the oldest is retired.</summary>
    public bool IsFull => InFlight == _writes.Length;

    /// <summary>Gets the slot the next issued write takes (each slot has its own file handle).</summary>
    public int NextSlot => (_head + InFlight) % _writes.Length;

    /// <summary>Records a write just issued into <see cref="NextSlot"/>.</summary>
    public void Issue(ValueTask write, WipeChunk chunk)
    {
        int slot = NextSlot;
        _writes[slot] = write;
        _chunks[slot] = chunk;
        InFlight++;
    }

    /// <summary>
    /// Takes the oldest write out of the ring before the caller awaits it, so a failure never leaves it to be awaited
    /// twice; returns it to await, with its chunk.
    /// </summary>
    public ValueTask RetireOldest(out WipeChunk chunk)
    {
        ValueTask oldest = _writes[_head];
        chunk = _chunks[_head];
        _writes[_head] = default;
        _head = (_head + 1) % _writes.Length;
        InFlight--;
        return oldest;
    }
}
