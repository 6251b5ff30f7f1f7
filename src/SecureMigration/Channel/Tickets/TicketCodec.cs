using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// The wire form of tickets and acknowledgements, each bound to the TLS session by an HMAC-SHA256 keyed with
/// the session's exporter secret. Every length is checked before it is trusted. An acknowledgement carries the
/// destination's reason for a refusal (UTF-8, at most <see cref="MaxReasonBytes"/>), for the source's operator.
/// </summary>
internal static class TicketCodec
{
    public const byte Version = 3;
    public const int BindingLength = 32;
    public const int NonceLength = 16;
    public const int MaxReasonBytes = 1024;
    public const int MaxAckLength = 1 + NonceLength + 2 + MaxReasonBytes + BindingLength;

    /// <summary>The largest encoded ticket: version, id, three length-prefixed strings, epoch, nonce, expiry, registry id,
    /// registry revision, binding.</summary>
    public const int MaxTicketLength =
        1 + 16 + (3 * (1 + MigrationTicket.MaxFieldLength)) + 8 + NonceLength + 8 + 1 + MigrationTicket.MaxFieldLength + 8 +
        BindingLength;

    private static ReadOnlySpan<byte> AckLabel => "secmig ticket ack"u8;

    public static void EnsureEncodable(MigrationTicket ticket)
    {
        EnsureField(ticket.VmId, nameof(ticket.VmId));
        EnsureField(ticket.SourceIdentity, nameof(ticket.SourceIdentity));
        EnsureField(ticket.DestinationIdentity, nameof(ticket.DestinationIdentity));
        ArgumentOutOfRangeException.ThrowIfNegative(ticket.OwnershipEpoch);
        // RegistryId needs no check here: its init accessor refuses what cannot be encoded, in 'with' expressions too.
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
        writer.WriteString(ticket.RegistryId ?? string.Empty);
        writer.WriteInt64(ticket.RegistryRevision ?? 0);
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
            !reader.TryReadString(out string? registryId, allowEmpty: true) ||
            !reader.TryReadInt64(out long registryRevision) || registryRevision < 0 ||
            !reader.IsEmpty)
        {
            return TicketRefusal.Malformed;
        }

        ticket = new MigrationTicket(new Guid(id, bigEndian: true), vmId, source, destination, epoch, nonce,
            DateTimeOffset.FromUnixTimeMilliseconds(expiresMs))
        {
            RegistryId = registryId.Length == 0 ? null : registryId,
            RegistryRevision = registryRevision == 0 ? null : registryRevision,
        };
        return TicketRefusal.None;
    }

    /// <summary>Encodes an acknowledgement with <paramref name="reason"/> cut to <see cref="MaxReasonBytes"/>; returns its
    /// length.</summary>
    public static int EncodeAck(TicketRefusal status, UInt128 nonce, string reason, ReadOnlySpan<byte> bindingKey, Span<byte> destination)
    {
        destination[0] = (byte)status;
        BinaryPrimitives.WriteUInt128BigEndian(destination.Slice(1, NonceLength), nonce);
        int reasonLength = Utf8Prefix(reason, destination.Slice(1 + NonceLength + 2, MaxReasonBytes));
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1 + NonceLength, 2), (ushort)reasonLength);
        int bodyLength = 1 + NonceLength + 2 + reasonLength;
        AckMac(bindingKey, destination[..bodyLength], destination.Slice(bodyLength, BindingLength));
        return bodyLength + BindingLength;
    }

    /// <summary>Decodes an acknowledgement; <see langword="false"/> when it is malformed, unbound or for another ticket.</summary>
    public static bool TryDecodeAck(ReadOnlySpan<byte> encoded, UInt128 expectedNonce, ReadOnlySpan<byte> bindingKey,
        out TicketRefusal status,
        out string reason)
    {
        status = TicketRefusal.Malformed;
        reason = string.Empty;
        const int fixedLength = 1 + NonceLength + 2 + BindingLength;
        if (encoded.Length < fixedLength || encoded.Length > MaxAckLength ||
            BinaryPrimitives.ReadUInt16BigEndian(encoded.Slice(1 + NonceLength, 2)) != encoded.Length - fixedLength)
        {
            return false;
        }

        ReadOnlySpan<byte> body = encoded[..^BindingLength];
        Span<byte> expected = stackalloc byte[BindingLength];
        AckMac(bindingKey, body, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, encoded[^BindingLength..]) ||
            BinaryPrimitives.ReadUInt128BigEndian(encoded.Slice(1, NonceLength)) != expectedNonce ||
            !Enum.IsDefined((TicketRefusal)encoded[0]))
        {
            return false;
        }

        try
        {
            reason = StrictUtf8.GetString(body[(1 + NonceLength + 2)..]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        status = (TicketRefusal)encoded[0];
        return true;
    }

    /// <summary>Writes the longest prefix of <paramref name="text"/> that fits, whole characters only; returns its length.</summary>
    private static int Utf8Prefix(string text, Span<byte> destination)
    {
        _ = System.Text.Unicode.Utf8.FromUtf16(text, destination, out _, out int written);
        return written;
    }

    private static void AckMac(ReadOnlySpan<byte> bindingKey, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, bindingKey);
        hmac.AppendData(AckLabel);
        hmac.AppendData(body);
        hmac.GetHashAndReset(mac);
    }

    public static void EnsureField(string value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        int length = Encoding.UTF8.GetByteCount(value);
        if (length is 0 or > MigrationTicket.MaxFieldLength)
        {
            throw new ArgumentException($"The ticket's {name} must be 1 to {MigrationTicket.MaxFieldLength} UTF-8 bytes; it is {length}.",
                name);
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

        public bool TryReadString([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value, bool allowEmpty = false)
        {
            value = null;
            if (!TryReadByte(out byte length) || (length == 0 && !allowEmpty) || !TryReadBytes(length, out ReadOnlySpan<byte> bytes))
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
