using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// One pair of handles (page-cache and O_DIRECT) and one <see cref="IoSlot"/> thread per I/O slot: each slot has at most one
/// operation in flight, whose completion source is reused, so a wipe's reads and writes allocate nothing per block and as
/// many are at the device as there are slots. Slot 0's page-cache handle is the wipe's exclusive one; the others are opened
/// beside it.
/// </summary>
internal sealed class WipeHandles : IDisposable
{
    private readonly SafeFileHandle[] _buffered;
    private readonly SafeFileHandle[]? _direct;
    private readonly IoSlot?[] _slots;
    private readonly bool _inlineIo;

    private WipeHandles(SafeFileHandle[] buffered, SafeFileHandle[]? direct, bool inlineIo)
    {
        _buffered = buffered;
        _direct = direct;
        _slots = new IoSlot?[buffered.Length];
        _inlineIo = inlineIo;
    }

    public bool DirectIo => _direct is not null;

    public SafeFileHandle Primary => _buffered[0];

    /// <summary>Opens <paramref name="slots"/> pairs next to <paramref name="primary"/>, which the caller opened (and which is disposed
    /// with these); <paramref name="inlineIo"/> runs each operation to its end where it is issued (<see cref="IoSlot(bool)"/>,
    /// tests).</summary>
    public static WipeHandles Open(string path, SafeFileHandle primary, int slots, bool directIo, bool inlineIo = false)
    {
        var buffered = new SafeFileHandle[slots];
        buffered[0] = primary;
        SafeFileHandle[]? direct = null;
        // Every other handle must reach the primary's file: one swapped in under the path meanwhile is refused.
        FileIdentity? identity = Posix.IdentityOf((int)primary.DangerousGetHandle());
        try
        {
            for (int i = 1; i < slots; i++)
            {
                buffered[i] = OpenRaw(path, identity);
            }

            if (directIo && DirectFile.TryOpen(path, identity) is { } first)
            {
                direct = new SafeFileHandle[slots];
                direct[0] = first;
                for (int i = 1; i < slots; i++)
                {
                    direct[i] = DirectFile.TryOpen(path, identity) ?? throw new IOException($"'{path}' could be opened with O_DIRECT " +
                        $"once but not again.");
                }
            }

            return new WipeHandles(buffered, direct, inlineIo);
        }
        catch
        {
            WipeTarget.Close(primary);
            foreach (SafeFileHandle? handle in buffered.Skip(1).Concat(direct ?? []))
            {
                handle?.Dispose();
            }

            throw;
        }
    }

    /// <summary>Writes a chunk from <paramref name="slot"/>: O_DIRECT when the chunk suits it and the file system allows it.</summary>
    public ValueTask WriteAsync(int slot, WipeChunk chunk, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Slot(slot).WriteAsync(chunk.Direct && _direct is not null ? _direct[slot] : _buffered[slot], data, chunk.Offset,
            cancellationToken);

    /// <summary>Has <paramref name="slot"/> fill its block for a chunk (<see cref="BlockFill"/>, on the slot's thread) and write it,
    /// as <see cref="WriteAsync"/>.</summary>
    public ValueTask FillAndWriteAsync(int slot, WipeChunk chunk, Memory<byte> block, BlockFill fill,
        CancellationToken cancellationToken) =>
        Slot(slot).FillAndWriteAsync(chunk.Direct && _direct is not null ? _direct[slot] : _buffered[slot], block, chunk.Offset, fill,
            cancellationToken);

    /// <summary>A verification read from <paramref name="slot"/>: O_DIRECT whenever the file system allows it, for every chunk (the
    /// caller widens unaligned ones to whole pages).</summary>
    public ValueTask<int> ReadAsync(int slot, Memory<byte> buffer, long offset, CancellationToken cancellationToken) =>
        Slot(slot).ReadAsync(_direct is not null ? _direct[slot] : _buffered[slot], buffer, offset, cancellationToken);

    /// <summary>Flushes the file's data to disk (fsync covers every descriptor of the file).</summary>
    public void Flush()
    {
        RandomAccess.FlushToDisk(_buffered[0]);
        if (_direct is not null)
        {
            RandomAccess.FlushToDisk(_direct[0]);
        }
    }

    /// <summary>Stops the slots' threads (every operation was awaited) and closes the handles, the primary's lock released
    /// first (<see cref="WipeTarget.Close"/>).</summary>
    public void Dispose()
    {
        foreach (IoSlot? slot in _slots)
        {
            slot?.Dispose();
        }

        WipeTarget.Close(_buffered[0]);
        foreach (SafeFileHandle handle in _buffered.Skip(1).Concat(_direct ?? []))
        {
            handle?.Dispose();
        }
    }

    /// <summary>A slot's thread, started on its first operation: a wipe whose passes the device zeroes starts none.</summary>
    private IoSlot Slot(int slot) => _slots[slot] ??= new IoSlot(_inlineIo);

    // Outside .NET's share emulation: the primary handle already holds the wipe's exclusive lock.
    private static SafeFileHandle OpenRaw(string path, FileIdentity? identity) => NoFollowFile.Open(path, FileMode.Open,
        FileAccess.ReadWrite, identity);
}
