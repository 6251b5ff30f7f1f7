using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Pipelines;
using SecureMigration.Channel.Records;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The commit protocol's frames (<see cref="MigrationWire"/>) and the channel that carries them. Input:
/// <c>ROLE SIZE CARRIER FRAMES</c>. ROLE's low bit picks the destination's reads (the stream, then Commit) or the
/// source's (Ready, Verified, Committed); FRAMES arrive cut every SIZE bytes (0: 16 KiB), each piece in its own read,
/// sealed in records when CARRIER's low bit is 0, else as plain bytes. Invariants: only
/// <see cref="MigrationAbortedException"/>; what each read returns agrees with a plain reading of FRAMES (payload
/// by payload, the stream byte for byte); every read ends (a spin is a hang); bounded allocation.
/// </summary>
internal sealed class WireTarget : FuzzTarget
{
    private const int HeaderLength = 5;

    public override string Name => "wire";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        bool destination = (fields.Byte() & 1) == 0;
        int size = fields.Byte() is var s and > 0 ? s : RecordLayer.MaxPlaintext;
        bool inRecords = (fields.Byte() & 1) == 0;
        byte[] frames = fields.Rest.ToArray();

        using var peer = new PeerRecords();
        for (int at = 0; at < frames.Length; at += size)
        {
            ReadOnlySpan<byte> piece = frames.AsSpan(at, Math.Min(size, frames.Length - at));
            if (inRecords)
            {
                peer.SealAll(piece, PeerRecords.ApplicationData, size);
            }
            else
            {
                peer.Raw(piece);
            }

            peer.Cut();
        }

        if (inRecords)
        {
            peer.Close();
        }

        var transport = new FuzzTransport(peer.Chunks);
        using RecordLayer records = PeerRecords.OpenWith(transport, isClient: !destination);
        PipeReader reader = inRecords ? new OpeningPipeReader(records, [], static _ => { }, static _ => { }) : transport.Input;
        using var wire = new MigrationWire(new Channel(reader, transport.Output), TimeSpan.FromMinutes(1), TimeProvider.System);
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 4 << 20, perInputByte: 64);
        ReadOnlySpan<byte> expected = frames;
        if (destination)
        {
            if (ReceiveStream(wire, ref expected))
            {
                Receive(wire, FrameType.Commit, ref expected);
            }
        }
        else if (Receive(wire, FrameType.Ready, ref expected) && Receive(wire, FrameType.Verified, ref expected))
        {
            Receive(wire, FrameType.Committed, ref expected);
        }

        budget.Check("Reading the frames");
        reader.Complete();
    }

    /// <summary>Receives the stream; checks it against the frames. <see langword="false"/> when it (rightly) aborted.</summary>
    private static bool ReceiveStream(MigrationWire wire, ref ReadOnlySpan<byte> frames)
    {
        var sink = new MemoryStream();
        var expectedData = new MemoryStream();
        (long Length, byte[] Digest)? end = null;
        while (end is null && TryFrame(ref frames, out FrameType type, out ReadOnlySpan<byte> payload, out int length))
        {
            if (type == FrameType.Data && length is > 0 and <= MigrationWire.MaxDataFrame)
            {
                expectedData.Write(payload);
            }
            else if (type == FrameType.EndOfStream && length == sizeof(ulong) + MigrationWire.DigestLength)
            {
                end = ((long)BinaryPrimitives.ReadUInt64LittleEndian(payload), payload[sizeof(ulong)..].ToArray());
            }
            else
            {
                break;
            }
        }

        try
        {
            ReceivedStream received = wire.ReceiveStreamAsync(sink, new XxHash128(), null, CancellationToken.None).AsTask()
                .GetAwaiter().GetResult();
            InvariantViolationException.Check(end is { } e && received.AnnouncedLength == e.Length &&
                received.AnnouncedDigest.SequenceEqual(e.Digest) &&
                received.Received == expectedData.Length && sink.ToArray().SequenceEqual(expectedData.ToArray()),
                "the stream was received, but not as its frames say");
            return true;
        }
        catch (MigrationAbortedException)
        {
            InvariantViolationException.Check(end is null, "the stream aborted although its frames were complete and well formed");
            return false;
        }
    }

    /// <summary>Receives one control frame; checks it against the frames. <see langword="false"/> when it (rightly) aborted.</summary>
    private static bool Receive(MigrationWire wire, FrameType expected, ref ReadOnlySpan<byte> frames)
    {
        bool complete = TryFrame(ref frames, out FrameType type, out ReadOnlySpan<byte> payload, out int length);
        bool valid = complete && type == expected && length <= MigrationWire.MaxControlFrame;
        try
        {
            byte[] received = wire.ReceiveAsync(expected, TimeSpan.FromMinutes(1), CancellationToken.None).AsTask()
                .GetAwaiter().GetResult();
            InvariantViolationException.Check(valid && received.AsSpan().SequenceEqual(payload),
                $"{expected} was received, but not as its frame says");
            return true;
        }
        catch (MigrationAbortedException)
        {
            InvariantViolationException.Check(!valid, $"a well-formed {expected} frame was refused");
            return false;
        }
    }

    /// <summary>A plain reading of the next frame; <see langword="false"/> when it is not all there.</summary>
    private static bool TryFrame(ref ReadOnlySpan<byte> frames, out FrameType type, out ReadOnlySpan<byte> payload, out int length)
    {
        type = default;
        payload = default;
        length = 0;
        if (frames.Length < HeaderLength)
        {
            return false;
        }

        type = (FrameType)frames[0];
        length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(frames[1..]), int.MaxValue);
        if (frames.Length - HeaderLength < length)
        {
            return false;
        }

        payload = frames.Slice(HeaderLength, length);
        frames = frames[(HeaderLength + length)..];
        return true;
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        byte[] data = [.. Enumerable.Range(0, 3000).Select(i => (byte)i)];
        byte[] end = new byte[sizeof(ulong) + MigrationWire.DigestLength];
        BinaryPrimitives.WriteUInt64LittleEndian(end, (ulong)data.Length);
        XxHash128.Hash(data, end.AsSpan(sizeof(ulong)));
        byte[] endAndCommit = [.. Frame(FrameType.EndOfStream, end), .. Frame(FrameType.Commit, [])];
        yield return ("destination-stream", [0, 0, 0, .. Frame(FrameType.Data, data), .. endAndCommit]);
        yield return ("destination-split-header", [0, 3, 0, .. Frame(FrameType.Data, data[..40]), .. endAndCommit]);
        byte[] abort = Frame(FrameType.Abort, "gave up"u8.ToArray());
        yield return ("destination-abort", [0, 7, 1, .. Frame(FrameType.Data, data[..10]), .. abort]);
        byte[] committed = Frame(FrameType.Committed, [7, 0, 0, 0, 0, 0, 0, 0]);
        yield return ("source-commit", [1, 0, 0, .. Frame(FrameType.Ready, []), .. Frame(FrameType.Verified, []), .. committed]);
    }

    private static byte[] Frame(FrameType type, byte[] payload)
    {
        byte[] frame = new byte[HeaderLength + payload.Length];
        frame[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, HeaderLength);
        return frame;
    }

    private sealed record Channel(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
