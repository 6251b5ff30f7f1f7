using System.Buffers;
using System.Buffers.Binary;
using SecureMigration.Channel.Tls;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// The round trip right after the handshake: the connecting end sends its ticket, the accepting end answers
/// with a bound acknowledgement. It also tells a TLS 1.3 client whether the server accepted its certificate
/// before any VM data moves. Frames are <c>type (1) | length (2) | payload</c>, and the length is bounded.
/// </summary>
internal static class TicketExchange
{
    private const byte TicketFrame = 1;
    private const byte AckFrame = 2;
    private const int HeaderLength = 3;

    public static async ValueTask SendTicketAsync(TlsEngine engine, MigrationTicket ticket, byte[] bindingKey, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[HeaderLength + TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket, bindingKey, frame.AsSpan(HeaderLength));
        WriteHeader(frame, TicketFrame, length);
        await engine.WriteApplicationDataAsync(new ReadOnlySequence<byte>(frame, 0, HeaderLength + length), cancellationToken).ConfigureAwait(false);
    }

    public static async ValueTask<TicketRefusal> ReceiveAckAsync(TlsEngine engine, UInt128 nonce, byte[] bindingKey, CancellationToken cancellationToken)
    {
        byte[] payload = await ReceiveFrameAsync(engine, AckFrame, TicketCodec.AckLength, cancellationToken).ConfigureAwait(false);
        if (!TicketCodec.TryDecodeAck(payload, nonce, bindingKey, out TicketRefusal status))
        {
            throw new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                "The peer's ticket acknowledgement is malformed or not bound to this session. The peer is not a compatible SecureMigration endpoint.");
        }

        return status;
    }

    public static async ValueTask<(TicketRefusal Refusal, MigrationTicket? Ticket)> ReceiveTicketAsync(TlsEngine engine, byte[] bindingKey, CancellationToken cancellationToken)
    {
        byte[] payload = await ReceiveFrameAsync(engine, TicketFrame, TicketCodec.MaxTicketLength, cancellationToken).ConfigureAwait(false);
        TicketRefusal refusal = TicketCodec.TryDecode(payload, bindingKey, out MigrationTicket? ticket);
        return (refusal, ticket);
    }

    public static async ValueTask SendAckAsync(TlsEngine engine, TicketRefusal status, UInt128 nonce, byte[] bindingKey, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[HeaderLength + TicketCodec.AckLength];
        TicketCodec.EncodeAck(status, nonce, bindingKey, frame.AsSpan(HeaderLength));
        WriteHeader(frame, AckFrame, TicketCodec.AckLength);
        await engine.WriteApplicationDataAsync(new ReadOnlySequence<byte>(frame), cancellationToken).ConfigureAwait(false);
    }

    private static void WriteHeader(byte[] frame, byte type, int length)
    {
        frame[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)length);
    }

    private static async ValueTask<byte[]> ReceiveFrameAsync(TlsEngine engine, byte expectedType, int maxLength, CancellationToken cancellationToken)
    {
        byte[] header = await ReceiveExactlyAsync(engine, HeaderLength, cancellationToken).ConfigureAwait(false);
        int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
        if (header[0] != expectedType || length == 0 || length > maxLength)
        {
            throw new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                $"The peer sent a frame of type {header[0]} and length {length} where a frame of type {expectedType} of at most {maxLength} bytes was due. It is not a compatible SecureMigration endpoint.");
        }

        return await ReceiveExactlyAsync(engine, length, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<byte[]> ReceiveExactlyAsync(TlsEngine engine, int count, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            if (engine.ApplicationDataAvailable > 0)
            {
                filled += engine.ReadApplicationData(buffer.AsMemory(filled));
                continue;
            }

            if (engine.PeerClosed || await engine.ReceiveAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new EndOfStreamException("The peer closed the channel during the ticket exchange.");
            }
        }

        return buffer;
    }
}
