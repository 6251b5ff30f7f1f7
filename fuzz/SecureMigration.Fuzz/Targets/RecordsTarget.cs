using System.Buffers;
using System.IO.Pipelines;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The data phase's record layer as the channel reads it (<see cref="OpeningPipeReader"/> over
/// <see cref="RecordLayer"/>), post-handshake messages included. The input is a list of operations of the peer:
/// <c>0 LEN(2) INNER</c> seals INNER (content, type, padding) as a record, <c>1 LEN(2) BYTES</c> sends raw bytes,
/// <c>2</c> updates the peer's key, <c>3</c> cuts the stream (what follows arrives in a later read). The reading end is
/// the TLS client (which may receive NewSessionTicket) when the first byte's high bit is set, else the server.
/// Invariants: only <see cref="SecureChannelException"/>; what is delivered is a prefix of the application data
/// the peer sealed; a clean end only after the peer sealed a close_notify; bounded allocation.
/// </summary>
internal sealed class RecordsTarget : FuzzTarget
{
    public override string Name => "records";

    public override void Run(byte[] input)
    {
        using var peer = new PeerRecords();
        var sealedData = new List<byte>();
        bool sealedClose = false;
        var ops = new FuzzInput(input);
        while (!ops.IsEmpty)
        {
            switch (ops.Byte() & 3)
            {
                case 0:
                    ReadOnlySpan<byte> inner = ops.Bytes(ops.UInt16());
                    peer.Seal(inner);
                    int type = inner.LastIndexOfAnyExcept((byte)0);
                    if (type >= 0 && inner[type] == PeerRecords.ApplicationData)
                    {
                        sealedData.AddRange(inner[..type]);
                    }

                    sealedClose |= type == 2 && inner[type] == PeerRecords.Alert && inner[1] == 0;
                    break;
                case 1:
                    peer.Raw(ops.Bytes(ops.UInt16()));
                    break;
                case 2:
                    peer.UpdateKey();
                    break;
                default:
                    peer.Cut();
                    break;
            }
        }

        var transport = new FuzzTransport(peer.Chunks);
        using RecordLayer records = PeerRecords.OpenWith(transport, isClient: input.Length > 0 && (input[0] & 0x80) != 0);
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 2 << 20, perInputByte: 64);
        (byte[] delivered, bool clean) = ReadAll(records);
        budget.Check("Opening the records");
        byte[] expected = [.. sealedData];
        bool prefix = delivered.Length <= expected.Length && delivered.AsSpan().SequenceEqual(expected.AsSpan(0, delivered.Length));
        InvariantViolationException.Check(prefix,
            "the reader delivered bytes the peer did not seal as application data");
        InvariantViolationException.Check(!clean || sealedClose, "the stream ended cleanly without a close_notify from the peer");
    }

    /// <summary>Reads the channel's input to its end; returns what it delivered and whether it ended cleanly.</summary>
    public static (byte[] Delivered, bool Clean) ReadAll(RecordLayer records)
    {
        var reader = new OpeningPipeReader(records, [], static _ => { }, static _ => { });
        var delivered = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                ReadResult result = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                {
                    delivered.Write(segment.Span);
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return (delivered.WrittenSpan.ToArray(), true);
                }
            }
        }
        catch (SecureChannelException)
        {
            return (delivered.WrittenSpan.ToArray(), false);
        }
        finally
        {
            reader.Complete();
        }
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        yield return ("data-then-close", Ops(Sealed([.. "ping"u8, PeerRecords.ApplicationData]), Sealed([1, 0, PeerRecords.Alert])));
        yield return ("key-update", Ops(Sealed([24, 0, 0, 1, 1, PeerRecords.Handshake]), [2],
            Sealed([.. "after"u8, PeerRecords.ApplicationData, 0, 0]), Sealed([1, 0, PeerRecords.Alert])));
        yield return ("session-ticket-split", Ops([0x80 | 3], Sealed([4, 0, 0, 8, 0, 0, 0, 60, PeerRecords.Handshake]), [3],
            Sealed([1, 2, 3, 4, PeerRecords.Handshake]), Sealed([.. "x"u8, PeerRecords.ApplicationData]), [3],
            Sealed([1, 0, PeerRecords.Alert])));
        yield return ("raw-then-sealed", Ops([1, 0, 5, 23, 3, 3, 0, 17], Sealed([.. "y"u8, PeerRecords.ApplicationData])));
    }

    private static byte[] Sealed(byte[] inner) => [0, (byte)(inner.Length >> 8), (byte)inner.Length, .. inner];

    private static byte[] Ops(params byte[][] ops) => [.. ops.SelectMany(op => op)];
}
