using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecureMigration.Channel.Records;

/// <summary>RFC 8446 §7.1 HKDF-Expand-Label, for record keys and KeyUpdate.</summary>
internal static class KeySchedule
{
    public static byte[] ExpandLabel(HashAlgorithmName hash, ReadOnlySpan<byte> secret, string label, int length)
    {
        // struct { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255> = ""; } HkdfLabel;
        int labelLength = 6 + Encoding.ASCII.GetByteCount(label);
        Span<byte> info = stackalloc byte[2 + 1 + labelLength + 1];
        BinaryPrimitives.WriteUInt16BigEndian(info, (ushort)length);
        info[2] = (byte)labelLength;
        "tls13 "u8.CopyTo(info[3..]);
        Encoding.ASCII.GetBytes(label, info[9..]);
        info[^1] = 0;
        byte[] output = new byte[length];
        HKDF.Expand(hash, secret, output, info);
        return output;
    }
}
