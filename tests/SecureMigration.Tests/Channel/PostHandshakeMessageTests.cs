using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>
/// What a peer holding the session's keys may send after the handshake besides data: a server's NewSessionTicket
/// (skipped), KeyUpdate, and nothing else, in records no larger than TLS 1.3 allows (issue 15, record layer).
/// </summary>
public sealed class PostHandshakeMessageTests
{
    private const byte ApplicationData = 23;
    private const byte Handshake = 22;
    private static readonly RecordCipherSuite Suite = RecordCipherSuite.Aes128GcmSha256;

    [Fact]
    public void NewSessionTicket_InOneByteFragments_IsSkippedInLinearTimeAndDataFollows()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        byte[] ticket = Message(4, 64 * 1024);
        var wire = new List<byte[]>();
        foreach (byte b in ticket)
        {
            wire.Add(peer.Seal(Handshake, [b]));
        }

        wire.Add(peer.Seal(ApplicationData, "after the ticket"u8));
        (RecordLayer client, _) = Receiver(secret, isClient: true, wire);
        var received = new ArrayBufferWriter<byte>();

        long before = GC.GetAllocatedBytesForCurrentThread();
        ReceiveData(client, received);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("after the ticket"u8.ToArray(), received.WrittenSpan.ToArray());
        // Copying what is pending at every fragment (the quadratic reassembly) allocates gigabytes here.
        Assert.True(allocated < 4 << 20, $"reassembling 65,540 one-byte fragments allocated {allocated:N0} bytes");
    }

    [Fact]
    public void NewSessionTicket_FromTheClient_IsAViolation()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        (RecordLayer server, _) = Receiver(secret, isClient: false, [peer.Seal(Handshake, Message(4, 40)), peer.Seal(ApplicationData,
            "x"u8)]);

        SecureChannelException error = ReceiveFails(server, out int delivered);

        Assert.Equal(ChannelFailureReason.ProtocolViolation, error.Reason);
        Assert.Contains("client sent a NewSessionTicket", error.Message);
        Assert.Equal(0, delivered);
    }

    [Fact]
    public void NewSessionTicket_LargerThanTls13Allows_IsRefusedAtItsHeader()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        int declared = PostHandshakeMessages.MaxNewSessionTicket + 1;
        byte[] header = [4, (byte)(declared >> 16), (byte)(declared >> 8), (byte)declared];
        (RecordLayer client, _) = Receiver(secret, isClient: true, [peer.Seal(Handshake, header)]);

        SecureChannelException error = ReceiveFails(client, out _);

        Assert.Equal(ChannelFailureReason.ProtocolViolation, error.Reason);
        Assert.Contains($"declares {declared} bytes", error.Message);
    }

    [Fact]
    public void InnerPlaintext_OverTwoToTheFourteenPlusOne_IsRecordOverflowAndNothingIsDelivered()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        (RecordLayer server, _) = Receiver(secret, isClient: false, [peer.Seal(ApplicationData, new byte[RecordLayer.MaxPlaintext + 1])]);

        SecureChannelException error = ReceiveFails(server, out int delivered);

        Assert.Equal(ChannelFailureReason.ProtocolViolation, error.Reason);
        Assert.Contains("record_overflow", error.Message);
        Assert.Equal(0, delivered);
    }

    [Fact]
    public void InnerPlaintext_OfExactlyTwoToTheFourteen_IsDelivered()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        byte[] data = RandomNumberGenerator.GetBytes(RecordLayer.MaxPlaintext);
        (RecordLayer server, _) = Receiver(secret, isClient: false, [peer.Seal(ApplicationData, data)]);
        var received = new ArrayBufferWriter<byte>();

        ReceiveData(server, received);

        Assert.Equal(data, received.WrittenSpan.ToArray());
    }

    [Fact]
    public void DataBetweenTheFragmentsOfAHandshakeMessage_IsAViolation()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        byte[] ticket = Message(4, 100);
        (RecordLayer client, _) = Receiver(secret, isClient: true,
            [peer.Seal(Handshake, ticket.AsSpan(0, 50)), peer.Seal(ApplicationData, "interleaved"u8), peer.Seal(Handshake,
                ticket.AsSpan(50))]);

        SecureChannelException error = ReceiveFails(client, out int delivered);

        Assert.Contains("between the fragments", error.Message);
        Assert.Equal(0, delivered);
    }

    [Fact]
    public void KeyUpdate_SplitAcrossRecords_SwitchesTheKeyAfterItsLastByte()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        byte[] keyUpdate = [24, 0, 0, 1, 0];
        var wire = new List<byte[]> { peer.Seal(Handshake, keyUpdate.AsSpan(0, 2)), peer.Seal(Handshake, keyUpdate.AsSpan(2)) };
        peer.UpdateKey();
        wire.Add(peer.Seal(ApplicationData, "under the new key"u8));
        (RecordLayer server, _) = Receiver(secret, isClient: false, wire);
        var received = new ArrayBufferWriter<byte>();

        ReceiveData(server, received);

        Assert.Equal("under the new key"u8.ToArray(), received.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 24, 0, 0, 1, 0, 4 }, "not the last message")]
    [InlineData(new byte[] { 24, 0, 0, 2, 0, 0 }, "exactly 1")]
    [InlineData(new byte[] { 24, 0, 0, 1, 2 }, "request value 2")]
    [InlineData(new byte[] { 13, 0, 0, 0 }, "type 13 is not allowed")]
    [InlineData(new byte[0], "zero-length")]
    public void MalformedPostHandshakeMessages_AreViolations(byte[] content, string expected)
    {
        byte[] secret = RandomNumberGenerator.GetBytes(Suite.HashLength);
        using var peer = new RawRecordSealer(Suite, secret);
        (RecordLayer client, _) = Receiver(secret, isClient: true, [peer.Seal(Handshake, content)]);

        SecureChannelException error = ReceiveFails(client, out _);

        Assert.Equal(ChannelFailureReason.ProtocolViolation, error.Reason);
        Assert.Contains(expected, error.Message);
    }

    private static byte[] Message(byte type, int bodyLength)
    {
        byte[] message = new byte[4 + bodyLength];
        message[0] = type;
        message[1] = (byte)(bodyLength >> 16);
        message[2] = (byte)(bodyLength >> 8);
        message[3] = (byte)bodyLength;
        RandomNumberGenerator.Fill(message.AsSpan(4));
        return message;
    }

    private static (RecordLayer Layer, Pipe Input) Receiver(byte[] peerSecret, bool isClient, IEnumerable<byte[]> records)
    {
        var input = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        foreach (byte[] record in records)
        {
            input.Writer.Write(record);
        }

        input.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
        input.Writer.Complete();
        var layer = new RecordLayer(new DuplexPair.Duplex(input.Reader, new Pipe().Writer), Suite,
            RandomNumberGenerator.GetBytes(Suite.HashLength), peerSecret.ToArray(), isClient);
        return (layer, input);
    }

    /// <summary>Receives on this thread (the input is all there, so every read completes synchronously) until data arrives.</summary>
    private static void ReceiveData(RecordLayer layer, ArrayBufferWriter<byte> received)
    {
        while (received.WrittenCount == 0)
        {
            Assert.True(layer.ReceiveAsync(received, CancellationToken.None).AsTask().GetAwaiter().GetResult(), "the peer closed early");
        }
    }

    private static SecureChannelException ReceiveFails(RecordLayer layer, out int delivered)
    {
        var received = new ArrayBufferWriter<byte>();
        SecureChannelException error = Assert.Throws<SecureChannelException>(() =>
        {
            while (layer.ReceiveAsync(received, CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
            }
        });
        delivered = received.WrittenCount;
        return error;
    }
}
