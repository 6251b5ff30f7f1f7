using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tickets;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// Migration tickets and acknowledgements (<see cref="TicketCodec"/>, <see cref="TicketExchange"/>). Input:
/// <c>MODE REST</c>. MODE 0: REST is a ticket body, bound with the session key (so the fuzzer gets past the HMAC);
/// 1: REST is a whole ticket as received; 2: <c>STATUS NONCE(16) REASON</c>, a bound acknowledgement; 3 and 4: REST is
/// what the peer sends in records (<c>SIZE BYTES</c>, cut every SIZE bytes) where the destination waits for the
/// ticket frame, or the source for the acknowledgement frame. Invariants: a decoded ticket encodes back to the
/// very bytes it came from; an acknowledgement decodes to its status exactly when that status is defined, and to its
/// reason or the longest prefix of it that fits; the
/// exchange throws only <see cref="HandshakeFailedException"/>, <see cref="SecureChannelException"/> or
/// <see cref="EndOfStreamException"/>; bounded allocation.
/// </summary>
internal sealed class TicketsTarget : FuzzTarget
{
    private static readonly byte[] BindingKey = [.. Enumerable.Range(7, 32).Select(i => (byte)i)];

    public override string Name => "tickets";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        byte mode = fields.Byte();
        if (mode % 5 is 3 or 4)
        {
            Exchange(mode % 5 == 3, fields.Byte(), fields.Rest, input.Length);
            return;
        }

        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 64);
        switch (mode % 5)
        {
            case 0:
                DecodeTicket([.. fields.Rest, .. HMACSHA256.HashData(BindingKey, fields.Rest)]);
                break;
            case 1:
                DecodeTicket(fields.Rest.ToArray());
                break;
            default:
                DecodeAck(fields.Byte(), fields.Rest);
                break;
        }

        budget.Check("Reading the ticket");
    }

    private static void DecodeTicket(byte[] encoded)
    {
        if (TicketCodec.TryDecode(encoded, BindingKey, out MigrationTicket? ticket) != TicketRefusal.None)
        {
            InvariantViolationException.Check(ticket is null, "a refused ticket was returned");
            return;
        }

        byte[] again = new byte[TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket!, BindingKey, again);
        InvariantViolationException.Check(again.AsSpan(0, length).SequenceEqual(encoded),
            "a decoded ticket does not encode back to its bytes");
    }

    private static void DecodeAck(byte status, ReadOnlySpan<byte> rest)
    {
        Span<byte> nonceBytes = stackalloc byte[TicketCodec.NonceLength];
        rest[..Math.Min(rest.Length, nonceBytes.Length)].CopyTo(nonceBytes);
        UInt128 nonce = BinaryPrimitives.ReadUInt128BigEndian(nonceBytes);
        string reason = Encoding.UTF8.GetString(rest[Math.Min(rest.Length, nonceBytes.Length)..]);
        byte[] ack = new byte[TicketCodec.MaxAckLength];
        int length = TicketCodec.EncodeAck((TicketRefusal)status, nonce, reason, BindingKey, ack);
        bool decoded = TicketCodec.TryDecodeAck(ack.AsSpan(0, length), nonce, BindingKey, out TicketRefusal got, out string gotReason);
        InvariantViolationException.Check(decoded == Enum.IsDefined((TicketRefusal)status) && (!decoded || got == (TicketRefusal)status),
            $"the acknowledgement with status {status} decoded as {decoded}/{got}");
        InvariantViolationException.Check(!decoded || reason.StartsWith(gotReason, StringComparison.Ordinal) &&
            (gotReason.Length == reason.Length || Encoding.UTF8.GetByteCount(gotReason) > TicketCodec.MaxReasonBytes - 4),
            "the acknowledgement's reason is not the reason sent, or a prefix of it cut at the bound");
        InvariantViolationException.Check(!TicketCodec.TryDecodeAck(ack.AsSpan(0, length), nonce + 1, BindingKey, out _, out _),
            "an acknowledgement for another ticket was accepted");
    }

    /// <summary>
    /// The peer's bytes are sealed into records first (the harness's work, not counted: one-byte records cost it far more
    /// than 64 bytes each); the budget covers the exchange reading them.
    /// </summary>
    private static void Exchange(bool destination, byte size, ReadOnlySpan<byte> sent, int inputLength)
    {
        using var peer = new PeerRecords();
        int step = size == 0 ? RecordLayer.MaxPlaintext : size;
        for (int at = 0; at < sent.Length; at += step)
        {
            peer.SealAll(sent.Slice(at, Math.Min(step, sent.Length - at)), PeerRecords.ApplicationData, step);
            peer.Cut();
        }

        peer.Close();
        using RecordLayer records = PeerRecords.OpenWith(new FuzzTransport(peer.Chunks), isClient: !destination);
        var budget = AllocationBudget.Start(inputLength, fixedBytes: 1 << 20, perInputByte: 64);
        try
        {
            if (destination)
            {
                TicketExchange.ReceiveTicketAsync(records, BindingKey, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
            else
            {
                TicketExchange.ReceiveAckAsync(records, 0, BindingKey, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (e is HandshakeFailedException or SecureChannelException or EndOfStreamException)
        {
            // Documented refusals.
        }

        budget.Check("Reading the ticket exchange");
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        var ticket = new MigrationTicket(Guid.Parse("0d8c4a5e-3c1f-4f7e-9a43-5b7f1f0c2d11"), "vm-42", "source.test", "destination.test", 7,
            UInt128.Parse("123456789012345678901234567890"), DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000))
        { RegistryId = "3f2a9c0e5b7d41a8a6c2e4f60819b3d5", RegistryRevision = 42 };
        byte[] encoded = new byte[TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket, BindingKey, encoded);
        yield return ("ticket-body", [0, .. encoded.AsSpan(0, length - TicketCodec.BindingLength)]);
        yield return ("ticket-bound", [1, .. encoded.AsSpan(0, length)]);
        yield return ("ack", [2, (byte)TicketRefusal.Vetoed, .. new byte[TicketCodec.NonceLength],
            .. "this agent does not serve VM 'vm3'"u8]);
        yield return ("exchange-ticket", [3, 0, 1, (byte)(length >> 8), (byte)length, .. encoded.AsSpan(0, length)]);
        byte[] ack = new byte[TicketCodec.MaxAckLength];
        ack = ack[..TicketCodec.EncodeAck(TicketRefusal.None, 0, string.Empty, BindingKey, ack)];
        yield return ("exchange-ack-split", [4, 5, 2, 0, (byte)ack.Length, .. ack, .. "leftover"u8]);
    }
}
