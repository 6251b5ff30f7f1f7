using System.Buffers.Binary;
using SecureMigration.Channel.Records;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Seals TLS 1.3 records of any inner content type and size under a traffic secret, as a misbehaving peer that holds
/// the keys would: the record layer under test must judge what they carry, not whether they decrypt.
/// </summary>
internal sealed class RawRecordSealer(RecordCipherSuite suite, byte[] secret) : IDisposable
{
    private readonly TrafficKey _key = new(suite, secret.ToArray());

    public byte[] Seal(byte contentType, ReadOnlySpan<byte> content)
    {
        int innerLength = content.Length + 1;
        byte[] record = new byte[5 + innerLength + TrafficKey.TagLength];
        record[0] = 23;
        record[1] = 3;
        record[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(3), (ushort)(innerLength + TrafficKey.TagLength));
        content.CopyTo(record.AsSpan(5));
        record[5 + content.Length] = contentType;
        _key.Seal(record.AsSpan(0, 5), record.AsSpan(5, innerLength), record.AsSpan(5 + innerLength));
        return record;
    }

    public void UpdateKey() => _key.Update();

    public void Dispose() => _key.Dispose();
}
