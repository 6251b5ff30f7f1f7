using System.Buffers;
using System.Buffers.Binary;

namespace SecureMigration.Channel.Records;

/// <summary>TLS record framing (RFC 8446 §5.1): <c>type (1) | legacy_version (2) | length (2) | fragment</c>.</summary>
internal static class RecordFraming
{
    public const int HeaderLength = 5;

    /// <summary>The largest fragment a TLS 1.3 record may carry (2^14 + 256).</summary>
    public const int MaxFragmentLength = (1 << 14) + 256;

    /// <summary>Reads the header at the start of <paramref name="buffer"/>; <see langword="false"/> when fewer than 5 bytes are
    /// there.</summary>
    public static bool TryReadHeader(ReadOnlySequence<byte> buffer, out byte contentType, out int fragmentLength)
    {
        contentType = 0;
        fragmentLength = 0;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        contentType = header[0];
        fragmentLength = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        return true;
    }

    /// <summary>Slices the first <paramref name="length"/> bytes off <paramref name="buffer"/> when they are all there.</summary>
    public static bool TryTake(ref ReadOnlySequence<byte> buffer, int length, out ReadOnlySequence<byte> record)
    {
        if (buffer.Length < length)
        {
            record = default;
            return false;
        }

        record = buffer.Slice(0, length);
        buffer = buffer.Slice(record.End);
        return true;
    }
}
