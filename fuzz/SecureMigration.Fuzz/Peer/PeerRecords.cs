using System.Buffers.Binary;
using System.IO.Pipelines;
using SecureMigration.Channel.Records;

namespace SecureMigration.Fuzz.Peer;

/// <summary>
/// The sending side of a fuzzing peer's TLS 1.3 record layer: it seals whatever inner plaintext the input says
/// (content, content type, padding) under a fixed traffic secret, so the fuzzer reaches the record layer's parser
/// behind the AEAD, and it may also send raw bytes, update its key and cut the stream into chunks anywhere.
/// <see cref="OpenWith"/> keys the receiving record layer to match.
/// </summary>
internal sealed class PeerRecords : IDisposable
{
    public const byte ApplicationData = 23;
    public const byte Handshake = 22;
    public const byte Alert = 21;

    private static readonly RecordCipherSuite Suite = RecordCipherSuite.Aes128GcmSha256;
    private static readonly byte[] PeerSecret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] LocalSecret = [.. Enumerable.Range(101, 32).Select(i => (byte)i)];

    private readonly TrafficKey _key = new(Suite, PeerSecret.ToArray());
    private readonly List<byte[]> _chunks = [];
    private readonly List<byte> _current = [];

    /// <summary>Gets the chunks sent so far, the unfinished one last.</summary>
    public IReadOnlyList<byte[]> Chunks => [.. _chunks, .. _current.Count > 0 ? [_current.ToArray()] : Array.Empty<byte[]>()];

    /// <summary>A record layer that opens what this peer seals, over <paramref name="transport"/>, as the TLS client or server.</summary>
    public static RecordLayer OpenWith(IDuplexPipe transport, bool isClient) =>
        new(transport, Suite, writeSecret: LocalSecret.ToArray(), readSecret: PeerSecret.ToArray(), isClient);

    /// <summary>Seals <paramref name="inner"/> (a TLSInnerPlaintext: content, type, zeros) as one record.</summary>
    public void Seal(ReadOnlySpan<byte> inner)
    {
        byte[] record = new byte[RecordFraming.HeaderLength + inner.Length + TrafficKey.TagLength];
        record[0] = ApplicationData;
        record[1] = 3;
        record[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(3), (ushort)(inner.Length + TrafficKey.TagLength));
        inner.CopyTo(record.AsSpan(RecordFraming.HeaderLength));
        _key.Seal(record.AsSpan(0, RecordFraming.HeaderLength), record.AsSpan(RecordFraming.HeaderLength, inner.Length),
            record.AsSpan(RecordFraming.HeaderLength + inner.Length));
        _current.AddRange(record);
    }

    /// <summary>Seals <paramref name="content"/> of <paramref name="type"/> in records of at most <paramref name="size"/> bytes.</summary>
    public void SealAll(ReadOnlySpan<byte> content, byte type, int size)
    {
        do
        {
            ReadOnlySpan<byte> part = content[..Math.Min(size, content.Length)];
            Seal([.. part, type]);
            content = content[part.Length..];
        }
        while (!content.IsEmpty);
    }

    /// <summary>Seals close_notify.</summary>
    public void Close() => Seal([1, 0, Alert]);

    public void Raw(ReadOnlySpan<byte> bytes) => _current.AddRange(bytes);

    public void UpdateKey() => _key.Update();

    /// <summary>Ends the current chunk: what follows arrives in a later read.</summary>
    public void Cut()
    {
        if (_current.Count > 0)
        {
            _chunks.Add([.. _current]);
            _current.Clear();
        }
    }

    public void Dispose() => _key.Dispose();
}
