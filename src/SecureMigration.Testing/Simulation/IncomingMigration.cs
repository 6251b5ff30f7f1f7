using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Testing.Simulation;

/// <summary>
/// Loads a simulated VM's migration stream into the destination's memory image, checking every length and offset
/// against the image before it writes: a stream that lies about them fails the load and writes nothing outside it.
/// </summary>
internal sealed class IncomingMigration
{
    private const long MaxImageSize = 1L << 40;

    private readonly SafeFileHandle _image;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 4 * 1024 * 1024, resumeWriterThreshold: 2 * 1024 * 1024,
        useSynchronizationContext: false));

    public IncomingMigration(SafeFileHandle image)
    {
        _image = image;
        Completion = Task.Run(RunAsync);
    }

    public Stream Stream => _pipe.Writer.AsStream();

    /// <summary>Completes with the image size once the end marker was loaded; fails on a bad or unfinished stream.</summary>
    public Task<long> Completion { get; }

    public async Task AbortAsync()
    {
        // Completing the reader would not wake a read in progress; cancelling it does, and the loader then gives up.
        _pipe.Reader.CancelPendingRead();
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or InvalidDataException or IOException)
        {
            // Destroyed, as asked.
        }
    }

    private async Task<long> RunAsync()
    {
        PipeReader reader = _pipe.Reader;
        try
        {
            ReadOnlySequence<byte> header = await ReadExactlyAsync(reader, SimulatedStream.HeaderLength).ConfigureAwait(false);
            byte[] headerBytes = header.ToArray();
            reader.AdvanceTo(header.End);
            if (!headerBytes.AsSpan().StartsWith(SimulatedStream.Magic))
            {
                throw new InvalidDataException("The incoming stream is not a simulated VM migration stream.");
            }

            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(headerBytes.AsSpan(8));
            uint blockSize = BinaryPrimitives.ReadUInt32LittleEndian(headerBytes.AsSpan(16));
            if (size > MaxImageSize || blockSize is 0 or > 16 * 1024 * 1024)
            {
                throw new InvalidDataException($"The incoming stream announces an image of {size} bytes in blocks of {blockSize}, " +
                    $"outside what a simulated VM can be.");
            }

            RandomAccess.SetLength(_image, (long)size);
            byte[] fields = new byte[SimulatedStream.BlockHeaderLength];
            while (true)
            {
                ReadOnlySequence<byte> blockHeader = await ReadExactlyAsync(reader, SimulatedStream.BlockHeaderLength)
                    .ConfigureAwait(false);
                blockHeader.CopyTo(fields);
                reader.AdvanceTo(blockHeader.End);
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(fields);
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(fields[8..]);
                if (offset == SimulatedStream.EndOffset && length == 0)
                {
                    await ExpectEndAsync(reader).ConfigureAwait(false);
                    RandomAccess.FlushToDisk(_image);
                    return (long)size;
                }

                if (length == 0 || length > blockSize || offset > size || length > size - offset)
                {
                    throw new InvalidDataException($"The incoming stream holds a block of {length} bytes at offset {offset}, outside the " +
                        $"{size}-byte image.");
                }

                ReadOnlySequence<byte> data = await ReadExactlyAsync(reader, (int)length).ConfigureAwait(false);
                long at = (long)offset;
                foreach (ReadOnlyMemory<byte> segment in data)
                {
                    RandomAccess.Write(_image, segment.Span, at);
                    at += segment.Length;
                }

                reader.AdvanceTo(data.End);
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static async ValueTask<ReadOnlySequence<byte>> ReadExactlyAsync(PipeReader reader, int length)
    {
        ReadResult result = await reader.ReadAtLeastAsync(length).ConfigureAwait(false);
        ThrowIfDestroyed(result);
        if (result.Buffer.Length < length)
        {
            throw new InvalidDataException("The incoming stream ended before its end marker: the migration did not finish.");
        }

        return result.Buffer.Slice(0, length);
    }

    private static async ValueTask ExpectEndAsync(PipeReader reader)
    {
        ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
        while (result.Buffer.IsEmpty && !result.IsCompleted)
        {
            ThrowIfDestroyed(result);
            reader.AdvanceTo(result.Buffer.End);
            result = await reader.ReadAsync().ConfigureAwait(false);
        }

        if (!result.Buffer.IsEmpty)
        {
            throw new InvalidDataException("The incoming stream goes on after its end marker.");
        }
    }

    private static void ThrowIfDestroyed(ReadResult result)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The incoming migration was destroyed.");
        }
    }
}
