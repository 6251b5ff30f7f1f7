using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using SecureMigration.Channel.Records;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// The round trip right after the handshake: the connecting end sends its ticket, the accepting end answers
/// with a bound acknowledgement. It also tells a TLS 1.3 client whether the server accepted its certificate
/// before any VM data moves. Frames are <c>type (1) | length (2) | payload</c>, and the length is bounded.
/// Application data that arrives behind a frame is returned, to be delivered first. Every buffer that held a
/// frame or data behind it is zeroed once used.
/// </summary>
internal static class TicketExchange
{
    private const byte TicketFrame = 1;
    private const byte AckFrame = 2;
    private const int HeaderLength = 3;

    public static async ValueTask SendTicketAsync(RecordLayer records, MigrationTicket ticket, byte[] bindingKey,
        CancellationToken cancellationToken)
    {
        byte[] frame = new byte[HeaderLength + TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket, bindingKey, frame.AsSpan(HeaderLength));
        WriteHeader(frame, TicketFrame, length);
        try
        {
            await records.WriteAsync(new ReadOnlySequence<byte>(frame, 0, HeaderLength + length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(frame);
        }
    }

    /// <summary>Receives the acknowledgement: the status, the destination's reason for a refusal (untrusted text), and what followed
    /// it.</summary>
    public static async ValueTask<(TicketRefusal Refusal, string Reason, byte[] Leftover)> ReceiveAckAsync(RecordLayer records,
        UInt128 nonce,
        byte[] bindingKey, CancellationToken cancellationToken)
    {
        (byte[] payload, byte[] leftover) = await ReceiveFrameAsync(records, AckFrame, TicketCodec.MaxAckLength,
            cancellationToken, cleanCloseFirst: () => new TicketNotReadException()).ConfigureAwait(false);
        bool bound = TicketCodec.TryDecodeAck(payload, nonce, bindingKey, out TicketRefusal status, out string reason);
        CryptographicOperations.ZeroMemory(payload);
        if (!bound)
        {
            CryptographicOperations.ZeroMemory(leftover);
            throw new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                "The peer's ticket acknowledgement is malformed or not bound to this session. The peer is not a compatible " +
                    "SecureMigration endpoint.");
        }

        return (status, reason, leftover);
    }

    public static async ValueTask<(TicketRefusal Refusal, MigrationTicket? Ticket, byte[] Leftover)> ReceiveTicketAsync(RecordLayer records,
        byte[] bindingKey,
        CancellationToken cancellationToken)
    {
        (byte[] payload, byte[] leftover) = await ReceiveFrameAsync(records, TicketFrame, TicketCodec.MaxTicketLength,
            cancellationToken, cleanCloseFirst: () => new ChannelNotUsedException()).ConfigureAwait(false);
        TicketRefusal refusal = TicketCodec.TryDecode(payload, bindingKey, out MigrationTicket? ticket);
        CryptographicOperations.ZeroMemory(payload);
        return (refusal, ticket, leftover);
    }

    public static async ValueTask SendAckAsync(RecordLayer records, TicketRefusal status, string reason, UInt128 nonce, byte[] bindingKey,
        CancellationToken cancellationToken)
    {
        byte[] frame = new byte[HeaderLength + TicketCodec.MaxAckLength];
        int length = TicketCodec.EncodeAck(status, nonce, reason, bindingKey, frame.AsSpan(HeaderLength));
        WriteHeader(frame, AckFrame, length);
        try
        {
            await records.WriteAsync(new ReadOnlySequence<byte>(frame, 0, HeaderLength + length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(frame);
        }
    }

    private static void WriteHeader(byte[] frame, byte type, int length)
    {
        frame[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)length);
    }

    /// <summary>Reads one frame of <paramref name="expectedType"/>, at most <paramref name="maxLength"/> bytes; throws
    /// <paramref name="cleanCloseFirst"/>'s exception when the peer ends its direction cleanly before the frame's first byte (such a
    /// close anywhere else is a cut).</summary>
    private static async ValueTask<(byte[] Payload, byte[] Leftover)> ReceiveFrameAsync(RecordLayer records, byte expectedType,
        int maxLength,
        CancellationToken cancellationToken, Func<Exception> cleanCloseFirst)
    {
        using var received = new WipingBufferWriter(HeaderLength + maxLength);
        int frameLength = -1;
        while (frameLength < 0 || received.WrittenCount < frameLength)
        {
            if (!await records.ReceiveAsync(received, cancellationToken).ConfigureAwait(false) &&
                received.WrittenCount < Math.Max(frameLength, HeaderLength))
            {
                throw received.WrittenCount == 0 ? cleanCloseFirst()
                    : new EndOfStreamException("The peer closed the channel during the ticket exchange.");
            }

            if (frameLength < 0 && received.WrittenCount >= HeaderLength)
            {
                ReadOnlySpan<byte> header = received.WrittenSpan;
                int length = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
                if (header[0] != expectedType || length == 0 || length > maxLength)
                {
                    throw new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                        $"The peer sent a frame of type {header[0]} and length {length} where a frame of type {expectedType} of at most " +
                            $"{maxLength} bytes was due. It is not a compatible SecureMigration endpoint.");
                }

                frameLength = HeaderLength + length;
            }
        }

        ReadOnlySpan<byte> all = received.WrittenSpan;
        return (all[HeaderLength..frameLength].ToArray(), all[frameLength..].ToArray());
    }
}
