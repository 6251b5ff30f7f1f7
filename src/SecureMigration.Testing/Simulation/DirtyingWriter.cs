using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Testing.Simulation;

/// <summary>
/// The guest of a simulated VM: while it runs, it keeps overwriting random blocks of the memory image, and remembers
/// which blocks it dirtied so a migration can send them again.
/// </summary>
internal sealed class DirtyingWriter : IAsyncDisposable
{
    private readonly SafeFileHandle _image;
    private readonly SimulatedHypervisorOptions _options;
    private readonly long _blocks;
    private readonly Random _random;
    private readonly HashSet<long> _dirty = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public DirtyingWriter(SafeFileHandle image, long size, SimulatedHypervisorOptions options, TimeProvider time, int seed)
    {
        _image = image;
        _options = options;
        _blocks = size / options.BlockSize;
        _random = new Random(seed);
        _loop = RunAsync(time);
    }

    /// <summary>Takes the set of blocks dirtied since the last call.</summary>
    public long[] TakeDirty()
    {
        lock (_gate)
        {
            long[] dirty = [.. _dirty.Order()];
            _dirty.Clear();
            return dirty;
        }
    }

    /// <summary>Stops the guest; when this completes, no write is in flight and every write is counted as dirty.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped, as asked.
        }

        _stop.Dispose();
    }

    private async Task RunAsync(TimeProvider time)
    {
        if (_blocks == 0)
        {
            return;
        }

        byte[] block = new byte[_options.BlockSize];
        using var timer = new PeriodicTimer(_options.DirtyInterval, time);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            for (int i = 0; i < _options.BlocksDirtiedPerTick; i++)
            {
                long index = _random.NextInt64(_blocks);
                _random.NextBytes(block);
                RandomAccess.Write(_image, block, index * _options.BlockSize);
                lock (_gate)
                {
                    _dirty.Add(index);
                }
            }
        }
    }
}
