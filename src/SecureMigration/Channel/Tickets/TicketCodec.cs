using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// The wire form of tickets and acknowledgements, each bound to the TLS session by an HMAC-SHA256 keyed with
/// the session's exporter secret. Every length is checked before it is trusted.
/// </summary>
internal static class TicketCodec
{
    public const byte Version = 1;
    public const int BindingLength = 32;
    public const int NonceLength = 16;
    public const int AckLength = 1 + NonceLength + BindingLength;

    /// <summary>The largest encoded ticket: version, id, three length-prefixed strings, epoch, nonce, expiry, binding.</summary>
    public const int MaxTicketLength = 1 + 16 + (3 * (1 + MigrationTicket.MaxFieldLength)) + 8 + NonceLength + 8 + BindingLength;

    private static ReadOnlySpan<byte> AckLabel => "secmig ticket ack"u8;

    public static void EnsureEncodable(MigrationTicket ticket)
    {
        EnsureField(ticket.VmId, nameof(ticket.VmId));
        EnsureField(ticket.SourceIdentity, nameof(ticket.SourceIdentity));
        EnsureField(ticket.DestinationIdentity, nameof(ticket.DestinationIdentity));
        ArgumentOutOfRangeException.ThrowIfNegative(ticket.OwnershipEpoch);
    }

    /// <summary>Encodes the ticket and appends its binding; returns the encoded length.</summary>
    public static int Encode(MigrationTicket ticket, ReadOnlySpan<byte> bindingKey, Span<byte> destination)
    {
        EnsureEncodable(ticket);
        var writer = new SpanWriter(destination);
        writer.WriteByte(Version);
        writer.Advance(16, span => ticket.MigrationId.TryWriteBytes(span, bigEndian: true, out _));
        writer.WriteString(ticket.VmId);
        writer.WriteString(ticket.SourceIdentity);
        writer.WriteString(ticket.DestinationIdentity);
        writer.WriteInt64(ticket.OwnershipEpoch);
        writer.WriteUInt128(ticket.Nonce);
        writer.WriteInt64(ticket.ExpiresAt.ToUnixTimeMilliseconds());
        int bodyLength = writer.Position;
        HMACSHA256.HashData(bindingKey, destination[..bodyLength], destination.Slice(bodyLength, BindingLength));
        return bodyLength + BindingLength;
    }

    /// <summary>Decodes a ticket; returns <see cref="TicketRefusal.None"/> only when it is well formed and bound to this session.</summary>
    public static TicketRefusal TryDecode(ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> bindingKey, out MigrationTicket? ticket)
    {
        ticket = null;
        if (encoded.Length < BindingLength + 1 || encoded.Length > MaxTicketLength)
        {
            return TicketRefusal.Malformed;
        }

        ReadOnlySpan<byte> body = encoded[..^BindingLength];
        Span<byte> expected = stackalloc byte[BindingLength];
        HMACSHA256.HashData(bindingKey, body, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, encoded[^BindingLength..]))
        {
            return TicketRefusal.BindingMismatch;
        }

        var reader = new SpanReader(body);
        if (!reader.TryReadByte(out byte version) || version != Version ||
            !reader.TryReadBytes(16, out ReadOnlySpan<byte> id) ||
            !reader.TryReadString(out string? vmId) ||
            !reader.TryReadString(out string? source) ||
            !reader.TryReadString(out string? destination) ||
            !reader.TryReadInt64(out long epoch) || epoch < 0 ||
            !reader.TryReadUInt128(out UInt128 nonce) ||
            !reader.TryReadInt64(out long expiresMs) ||
            expiresMs < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || expiresMs > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ||
            !reader.IsEmpty)
        {
            return TicketRefusal.Malformed;
        }

        ticket = new MigrationTicket(new Guid(id, bigEndian: true), vmId, source, destination, epoch, nonce,
            DateTimeOffset.FromUnixTimeMilliseconds(expiresMs));
        return TicketRefusal.None;
    }

    public static void EncodeAck(TicketRefusal status, UInt128 nonce, ReadOnlySpan<byte> bindingKey, Span<byte> destination)
    {
        destination[0] = (byte)status;
        BinaryPrimitives.WriteUInt128BigEndian(destination.Slice(1, NonceLength), nonce);
        AckMac(bindingKey, destination[..(1 + NonceLength)], destination.Slice(1 + NonceLength, BindingLength));
    }

    /// <summary>Decodes an acknowledgement; <see langword="false"/> when it is malformed, unbound or for another ticket.</summary>
    public static bool TryDecodeAck(ReadOnlySpan<byte> encoded, UInt128 expectedNonce, ReadOnlySpan<byte> bindingKey, out TicketRefusal status)
    {
        status = TicketRefusal.Malformed;
        if (encoded.Length != AckLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[BindingLength];
        AckMac(bindingKey, encoded[..(1 + NonceLength)], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, encoded[(1 + NonceLength)..]) ||
            BinaryPrimitives.ReadUInt128BigEndian(encoded.Slice(1, NonceLength)) != expectedNonce ||
            !Enum.IsDefined((TicketRefusal)encoded[0]))
        {
            return false;
        }

        status = (TicketRefusal)encoded[0];
        return true;
    }

    private static void AckMac(ReadOnlySpan<byte> bindingKey, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[AckLabel.Length + body.Length];
        AckLabel.CopyTo(input);
        body.CopyTo(input[AckLabel.Length..]);
        HMACSHA256.HashData(bindingKey, input, mac);
    }

    private static void EnsureField(string value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        int length = Encoding.UTF8.GetByteCount(value);
        if (length is 0 or > MigrationTicket.MaxFieldLength)
        {
            throw new ArgumentException($"The ticket's {name} must be 1 to {MigrationTicket.MaxFieldLength} UTF-8 bytes; it is {length}.", name);
        }
    }

    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;

        public int Position { get; private set; }

        public void WriteByte(byte value) => _buffer[Position++] = value;

        public void Advance(int count, SpanAction write)
        {
            write(_buffer.Slice(Position, count));
            Position += count;
        }

        public void WriteString(string value)
        {
            int length = Encoding.UTF8.GetBytes(value, _buffer[(Position + 1)..]);
            _buffer[Position] = (byte)length;
            Position += 1 + length;
        }

        public void WriteInt64(long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], value);
            Position += 8;
        }

        public void WriteUInt128(UInt128 value)
        {
            BinaryPrimitives.WriteUInt128BigEndian(_buffer[Position..], value);
            Position += 16;
        }
    }

    private delegate void SpanAction(Span<byte> span);

    private ref struct SpanReader(ReadOnlySpan<byte> buffer)
    {
        private ReadOnlySpan<byte> _rest = buffer;

        public readonly bool IsEmpty => _rest.IsEmpty;

        public bool TryReadByte(out byte value)
        {
            value = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool TryReadBytes(int count, out ReadOnlySpan<byte> value)
        {
            value = default;
            if (_rest.Length < count)
            {
                return false;
            }

            value = _rest[..count];
            _rest = _rest[count..];
            return true;
        }

        public bool TryReadString([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
        {
            value = null;
            if (!TryReadByte(out byte length) || length == 0 || !TryReadBytes(length, out ReadOnlySpan<byte> bytes))
            {
                return false;
            }

            try
            {
                value = StrictUtf8.GetString(bytes);
                return true;
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }

        public bool TryReadInt64(out long value)
        {
            value = 0;
            if (!TryReadBytes(8, out ReadOnlySpan<byte> bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadInt64BigEndian(bytes);
            return true;
        }

        public bool TryReadUInt128(out UInt128 value)
        {
            value = 0;
            if (!TryReadBytes(16, out ReadOnlySpan<byte> bytes))
            {
                return false;
            }

            value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            return true;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
