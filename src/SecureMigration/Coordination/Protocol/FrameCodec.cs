using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using System.Text;

namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// Frames on a duplex pipe: <c>type (u8) | length (u32 LE) | payload</c>. It reads and writes frames and nothing else:
/// the bounds on lengths, the waits and the errors are its callers'.
/// </summary>
internal sealed class FrameCodec(IDuplexPipe channel)
{
    public const int HeaderLength = 5;

    /// <summary>Writes one whole frame (not flushed).</summary>
    public void Write(FrameType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = channel.Output.GetSpan(HeaderLength + payload.Length);
        WriteHeader(span, type, payload.Length);
        payload.CopyTo(span[HeaderLength..]);
        channel.Output.Advance(HeaderLength + payload.Length);
    }

    /// <summary>Writes a data frame as a header and the payload copied after it (not flushed), for payloads larger than a span.</summary>
    public void WriteData(ReadOnlySpan<byte> payload)
    {
        WriteHeader(channel.Output.GetSpan(HeaderLength), FrameType.Data, payload.Length);
        channel.Output.Advance(HeaderLength);
        channel.Output.Write(payload);
    }

    /// <summary>A reason as a control frame's payload: UTF-8, cut at the frame's bound.</summary>
    public static ReadOnlyMemory<byte> Encode(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        return text.AsMemory(0, Math.Min(text.Length, MigrationWire.MaxControlFrame));
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        FlushResult result = await channel.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new MigrationAbortedException("the peer closed the channel", byPeer: false);
        }
    }

    /// <summary>
    /// Waits until the peer sends anything, or its end of the channel ends; consumes nothing, so the frame can still be read.
    /// </summary>
    public async ValueTask WaitForAnythingAsync(CancellationToken cancellationToken)
    {
        ReadResult result = await channel.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        channel.Input.AdvanceTo(result.Buffer.Start);
    }

    public async ValueTask<(FrameType Type, int Length)> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        ReadResult result = await channel.Input.ReadAtLeastAsync(HeaderLength, cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (buffer.Length < HeaderLength)
        {
            channel.Input.AdvanceTo(buffer.Start, buffer.End);
            string ended = buffer.IsEmpty ? "the peer closed the channel" : "the channel ended inside a frame";
            throw new MigrationAbortedException(ended, byPeer: false);
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        channel.Input.AdvanceTo(buffer.GetPosition(HeaderLength));
        return ((FrameType)header[0], (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(header[1..]), int.MaxValue));
    }

    public async ValueTask<byte[]> ReadPayloadAsync(int length, CancellationToken cancellationToken)
    {
        if (length == 0)
        {
            return [];
        }

        ReadResult result = await channel.Input.ReadAtLeastAsync(length, cancellationToken).ConfigureAwait(false);
        if (result.Buffer.Length < length)
        {
            channel.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            throw new MigrationAbortedException("the channel ended inside a frame", byPeer: false);
        }

        byte[] payload = result.Buffer.Slice(0, length).ToArray();
        channel.Input.AdvanceTo(result.Buffer.GetPosition(length));
        return payload;
    }

    /// <summary>Copies a payload of <paramref name="length"/> bytes into <paramref name="sink"/> as it arrives, hashing it.</summary>
    public async ValueTask CopyPayloadAsync(int length, Stream sink, NonCryptographicHashAlgorithm digest,
        CancellationToken cancellationToken)
    {
        int remaining = length;
        while (remaining > 0)
        {
            ReadResult result = await channel.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty && result.IsCompleted)
            {
                throw new MigrationAbortedException("the channel ended inside a frame", byPeer: false);
            }

            ReadOnlySequence<byte> take = buffer.Slice(0, Math.Min(remaining, buffer.Length));
            foreach (ReadOnlyMemory<byte> segment in take)
            {
                digest.Append(segment.Span);
                await sink.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }

            remaining -= (int)take.Length;
            channel.Input.AdvanceTo(take.End);
        }
    }

    private static void WriteHeader(Span<byte> destination, FrameType type, int length)
    {
        destination[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[1..], (uint)length);
    }
}
