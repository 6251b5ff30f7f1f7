using System.IO.Pipelines;
using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Testing.Simulation;

/// <summary>
/// Produces a simulated VM's migration stream by pre-copy: every block, then the blocks the guest dirtied meanwhile,
/// round after round, until few are left; then the guest is paused and the last dirty blocks are sent.
/// </summary>
internal sealed class OutgoingMigration
{
    private readonly SafeFileHandle _image;
    private readonly long _size;
    private readonly SimulatedHypervisorOptions _options;
    private readonly Func<ValueTask<long[]>> _pauseGuest;
    private readonly Func<long[]> _takeDirty;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024,
        useSynchronizationContext: false));
    private readonly CancellationTokenSource _cancel = new();

    public OutgoingMigration(SafeFileHandle image, long size, SimulatedHypervisorOptions options, Func<long[]> takeDirty,
        Func<ValueTask<long[]>> pauseGuest)
    {
        _image = image;
        _size = size;
        _options = options;
        _takeDirty = takeDirty;
        _pauseGuest = pauseGuest;
        Completion = Task.Run(RunAsync);
    }

    public Stream Stream => _pipe.Reader.AsStream();

    /// <summary>Completes when the stream is complete and the guest paused, or fails when the migration was cancelled.</summary>
    public Task Completion { get; }

    public async Task CancelAsync()
    {
        await _cancel.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // Cancelled, or the reader went away first: either way it is over.
        }
    }

    private async Task RunAsync()
    {
        PipeWriter writer = _pipe.Writer;
        try
        {
            SimulatedStream.WriteHeader(writer.GetSpan(SimulatedStream.HeaderLength), _size, _options.BlockSize);
            writer.Advance(SimulatedStream.HeaderLength);
            _takeDirty();
            long blocks = (_size + _options.BlockSize - 1) / _options.BlockSize;
            for (long block = 0; block < blocks; block++)
            {
                await SendBlockAsync(writer, block).ConfigureAwait(false);
            }

            for (int round = 0; round < _options.MaxPreCopyRounds; round++)
            {
                long[] dirty = _takeDirty();
                if (dirty.Length <= _options.StopAndCopyBlocks)
                {
                    await SendBlocksAsync(writer, dirty).ConfigureAwait(false);
                    break;
                }

                await SendBlocksAsync(writer, dirty).ConfigureAwait(false);
            }

            await SendBlocksAsync(writer, await _pauseGuest().ConfigureAwait(false)).ConfigureAwait(false);
            SimulatedStream.WriteBlockHeader(writer.GetSpan(SimulatedStream.BlockHeaderLength), SimulatedStream.EndOffset, 0);
            writer.Advance(SimulatedStream.BlockHeaderLength);
            await writer.FlushAsync(_cancel.Token).ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask SendBlocksAsync(PipeWriter writer, long[] blocks)
    {
        foreach (long block in blocks)
        {
            await SendBlockAsync(writer, block).ConfigureAwait(false);
        }
    }

    private async ValueTask SendBlockAsync(PipeWriter writer, long block)
    {
        _cancel.Token.ThrowIfCancellationRequested();
        long offset = block * _options.BlockSize;
        int length = (int)Math.Min(_options.BlockSize, _size - offset);
        Span<byte> span = writer.GetSpan(SimulatedStream.BlockHeaderLength + length);
        SimulatedStream.WriteBlockHeader(span, (ulong)offset, length);
        int read = RandomAccess.Read(_image, span.Slice(SimulatedStream.BlockHeaderLength, length), offset);
        if (read != length)
        {
            throw new IOException($"The simulated VM image ended at {offset + read} bytes, inside block {block}.");
        }

        writer.Advance(SimulatedStream.BlockHeaderLength + length);
        FlushResult result = await writer.FlushAsync(_cancel.Token).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("The reader of the migration stream went away before it ended.");
        }
    }
}
