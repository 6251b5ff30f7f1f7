using System.Security.Cryptography;
using CsCheck;
using SecureMigration.Channel.Tickets;

namespace SecureMigration.Tests.Channel;

public sealed class TicketCodecTests
{
    private static readonly byte[] BindingKey = RandomNumberGenerator.GetBytes(32);

    private static readonly Gen<string> Field = Gen.String[Gen.Char.AlphaNumeric, 1, 200];

    private static readonly Gen<MigrationTicket> Tickets =
        from id in Gen.Guid
        from vm in Field
        from source in Field
        from destination in Field
        from epoch in Gen.Long[0, long.MaxValue]
        from high in Gen.ULong
        from low in Gen.ULong
        from expires in Gen.Long[0, 253402300799999]
        from revision in Gen.Long[0, long.MaxValue]
        select new MigrationTicket(id, vm, source, destination, epoch, new UInt128(high, low),
            DateTimeOffset.FromUnixTimeMilliseconds(expires))
        { RegistryRevision = revision == 0 ? null : revision };

    [Fact]
    public void EncodeDecode_AnyTicket_RoundTrips()
    {
        Tickets.Sample(ticket =>
        {
            byte[] buffer = new byte[TicketCodec.MaxTicketLength];
            int length = TicketCodec.Encode(ticket, BindingKey, buffer);

            Assert.Equal(TicketRefusal.None, TicketCodec.TryDecode(buffer.AsSpan(0, length), BindingKey, out MigrationTicket? decoded));
            Assert.Equal(ticket, decoded);
        });
    }

    [Fact]
    public void Decode_AnyFlippedBit_IsRefusedNeverTrusted()
    {
        Gen.Select(Tickets, Gen.Int[0, int.MaxValue], Gen.Int[0, 7]).Sample((ticket, position, bit) =>
        {
            byte[] buffer = new byte[TicketCodec.MaxTicketLength];
            int length = TicketCodec.Encode(ticket, BindingKey, buffer);
            buffer[position % length] ^= (byte)(1 << bit);

            Assert.NotEqual(TicketRefusal.None, TicketCodec.TryDecode(buffer.AsSpan(0, length), BindingKey, out MigrationTicket? decoded));
            Assert.Null(decoded);
        });
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrowsAndNeverAccepts()
    {
        Gen.Byte.Array[0, TicketCodec.MaxTicketLength + 64].Sample(bytes =>
        {
            Assert.NotEqual(TicketRefusal.None, TicketCodec.TryDecode(bytes, BindingKey, out _));
        });
    }

    [Fact]
    public void Decode_WellBoundButStructurallyBroken_IsMalformed()
    {
        // An attacker who somehow held the binding key still cannot make the parser read out of bounds.
        Gen.Byte.Array[1, 300].Sample(body =>
        {
            byte[] frame = new byte[body.Length + TicketCodec.BindingLength];
            body.CopyTo(frame, 0);
            HMACSHA256.HashData(BindingKey, body, frame.AsSpan(body.Length));
            TicketRefusal refusal = TicketCodec.TryDecode(frame, BindingKey, out MigrationTicket? decoded);

            Assert.True(refusal is TicketRefusal.Malformed || (refusal is TicketRefusal.None && decoded is not null));
        });
    }

    [Fact]
    public void DecodeAck_AnyCorruption_IsRejected()
    {
        Gen.Select(Gen.ULong, Gen.String[0, 40], Gen.Int[0, 7], Gen.Int[0, 1000]).Sample((nonce, reason, bit, at) =>
        {
            byte[] ack = new byte[TicketCodec.MaxAckLength];
            int length = TicketCodec.EncodeAck(TicketRefusal.Vetoed, nonce, reason, BindingKey, ack);
            Assert.True(TicketCodec.TryDecodeAck(ack.AsSpan(0, length), nonce, BindingKey, out TicketRefusal status, out string decoded));
            Assert.Equal(TicketRefusal.Vetoed, status);

            ack[at % length] ^= (byte)(1 << bit);
            Assert.False(TicketCodec.TryDecodeAck(ack.AsSpan(0, length), nonce, BindingKey, out _, out _));
        });
    }

    [Fact]
    public void EncodeAck_Reason_RoundTripsAndIsCutToTheBoundOnWholeCharacters()
    {
        byte[] ack = new byte[TicketCodec.MaxAckLength];
        int length = TicketCodec.EncodeAck(TicketRefusal.Vetoed, 7, "this agent does not serve VM 'vm3' (it serves vm2)", BindingKey, ack);
        Assert.True(TicketCodec.TryDecodeAck(ack.AsSpan(0, length), 7, BindingKey, out _, out string reason));
        Assert.Equal("this agent does not serve VM 'vm3' (it serves vm2)", reason);

        string huge = string.Concat(Enumerable.Repeat("é😀", 2000));
        length = TicketCodec.EncodeAck(TicketRefusal.Vetoed, 7, huge, BindingKey, ack);
        Assert.True(TicketCodec.TryDecodeAck(ack.AsSpan(0, length), 7, BindingKey, out _, out reason));
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(reason), 1, TicketCodec.MaxReasonBytes);
        Assert.StartsWith(reason, huge, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RegistryId_RoundTripsAndAbsentStaysAbsent()
    {
        MigrationTicket plain = MigrationTicket.Create("vm1", "a", "b", 3, TimeSpan.FromMinutes(1));
        foreach (MigrationTicket ticket in new[] { plain, plain with { RegistryId = "0123456789abcdef0123456789abcdef" } })
        {
            byte[] encoded = new byte[TicketCodec.MaxTicketLength];
            int length = TicketCodec.Encode(ticket, BindingKey, encoded);

            Assert.Equal(TicketRefusal.None, TicketCodec.TryDecode(encoded.AsSpan(0, length), BindingKey, out MigrationTicket? decoded));
            Assert.Equal(ticket, decoded);
        }
    }

    [Fact]
    public void Create_FieldTooLong_ThrowsNamingTheField()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            MigrationTicket.Create(new string('v', 256), "a", "b", 0, TimeSpan.FromMinutes(1)));

        Assert.Contains("VmId", error.Message, StringComparison.Ordinal);
    }
}
