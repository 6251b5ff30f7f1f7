using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace SecureMigration.Coordination.Journal;

/// <summary>
/// The journal's file format. A header (<c>"SMJOURN1"</c>, 16 random bytes naming this journal, and an HMAC of both
/// that tells a wrong key from damage at once), then records
/// <c>length (u32 LE) | JSON | HMAC-SHA-256</c>, where each code covers the previous code, the length and the JSON:
/// an edited, reordered, deleted or foreign record breaks the chain. The chain starts from the code of the header.
/// </summary>
internal static class JournalCodec
{
    public const int MacLength = 32;
    public const int HeaderLength = 24 + MacLength;
    public const int MaxPayloadLength = 16 * 1024;
    public const int MaxRecordLength = sizeof(uint) + MaxPayloadLength + MacLength;

    private static ReadOnlySpan<byte> Magic => "SMJOURN1"u8;

    public static byte[] NewHeader(byte[] macKey)
    {
        byte[] header = new byte[HeaderLength];
        Magic.CopyTo(header);
        RandomNumberGenerator.Fill(header.AsSpan(Magic.Length, HeaderLength - MacLength - Magic.Length));
        HMACSHA256.HashData(macKey, header.AsSpan(0, HeaderLength - MacLength), header.AsSpan(HeaderLength - MacLength));
        return header;
    }

    public static bool IsHeader(ReadOnlySpan<byte> bytes) => bytes.Length >= HeaderLength && bytes.StartsWith(Magic);

    /// <summary>Whether <paramref name="start"/> (a file shorter than a header) can be a header torn while it was written.</summary>
    public static bool IsTornHeader(ReadOnlySpan<byte> start) =>
        start.Length <= Magic.Length ? Magic.StartsWith(start) : start.StartsWith(Magic);

    public static bool IsKeyOf(ReadOnlySpan<byte> header, byte[] macKey)
    {
        Span<byte> expected = stackalloc byte[MacLength];
        HMACSHA256.HashData(macKey, header[..(HeaderLength - MacLength)], expected);
        return CryptographicOperations.FixedTimeEquals(expected, header.Slice(HeaderLength - MacLength, MacLength));
    }

    /// <summary>The chain starts from the header's own code.</summary>
    public static byte[] ChainSeed(ReadOnlySpan<byte> header) => header.Slice(HeaderLength - MacLength, MacLength).ToArray();

    /// <summary>Encodes <paramref name="record"/> after the record whose code is <paramref name="previousMac"/>.</summary>
    public static byte[] Encode(JournalRecord record, byte[] macKey, ReadOnlySpan<byte> previousMac)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(record, JournalJson.Default.JournalRecord);
        if (json.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"A journal record is {json.Length} bytes of JSON, more than the {MaxPayloadLength} allowed; " +
                $"shorten its reason.", nameof(record));
        }

        byte[] encoded = new byte[sizeof(uint) + json.Length + MacLength];
        BinaryPrimitives.WriteUInt32LittleEndian(encoded, (uint)json.Length);
        json.CopyTo(encoded, sizeof(uint));
        ComputeMac(macKey, previousMac, encoded.AsSpan(0, sizeof(uint) + json.Length), encoded.AsSpan(sizeof(uint) + json.Length));
        return encoded;
    }

    /// <summary>
    /// Reads the record at the start of <paramref name="bytes"/>. Returns the outcome: a record (and its length), or
    /// why none could be read.
    /// </summary>
    public static ReadOutcome TryRead(ReadOnlySpan<byte> bytes, byte[] macKey, ReadOnlySpan<byte> previousMac, out JournalRecord? record,
        out int length)
    {
        record = null;
        length = 0;
        if (bytes.Length < sizeof(uint))
        {
            return ReadOutcome.Incomplete;
        }

        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        if (payloadLength == 0 || payloadLength > MaxPayloadLength)
        {
            return ReadOutcome.BadLength;
        }

        length = sizeof(uint) + (int)payloadLength + MacLength;
        if (bytes.Length < length)
        {
            return ReadOutcome.Incomplete;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        ComputeMac(macKey, previousMac, bytes[..(length - MacLength)], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(length - MacLength, MacLength)))
        {
            return ReadOutcome.BadMac;
        }

        try
        {
            record = JsonSerializer.Deserialize(bytes.Slice(sizeof(uint), (int)payloadLength), JournalJson.Default.JournalRecord);
        }
        catch (JsonException)
        {
            return ReadOutcome.BadContent;
        }

        return record is null ? ReadOutcome.BadContent : ReadOutcome.Record;
    }

    private static void ComputeMac(byte[] macKey, ReadOnlySpan<byte> previousMac, ReadOnlySpan<byte> lengthAndPayload,
        Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey);
        hmac.AppendData(previousMac);
        hmac.AppendData(lengthAndPayload);
        hmac.GetHashAndReset(destination);
    }

    public enum ReadOutcome
    {
        Record,
        Incomplete,
        BadLength,
        BadMac,
        BadContent,
    }
}
