using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using CsCheck;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>The data-phase record layer on its own: two ends keyed from the same traffic secrets.</summary>
public sealed class RecordLayerTests
{
    private static (RecordLayer Client, RecordLayer Server, DuplexPair Wire) Pair(RecordCipherSuite? suite = null)
    {
        suite ??= RecordCipherSuite.Aes256GcmSha384;
        byte[] clientSecret = RandomNumberGenerator.GetBytes(suite.HashLength);
        byte[] serverSecret = RandomNumberGenerator.GetBytes(suite.HashLength);
        // Unbounded pipes: these tests write everything before they read.
        var wire = new DuplexPair(new PipeOptions(pauseWriterThreshold: 0));
        return (new RecordLayer(wire.Client, suite, clientSecret.ToArray(), serverSecret.ToArray(), isClient: true),
            new RecordLayer(wire.Server, suite, serverSecret.ToArray(), clientSecret.ToArray(), isClient: false), wire);
    }

    private static async Task<byte[]> ReceiveAsync(RecordLayer layer, int count)
    {
        var received = new ArrayBufferWriter<byte>();
        while (received.WrittenCount < count)
        {
            Assert.True(await layer.ReceiveAsync(received, CancellationToken.None), "the peer closed early");
        }

        return received.WrittenSpan.ToArray();
    }

    [Fact]
    public void WriteReceive_AnyWritesAnySuiteWithFrequentRekeys_ArriveInOrder()
    {
        Gen.Select(Gen.Int[0, 2], Gen.Int[1, 5], Gen.Int[0, 70_000].Array[1, 6]).Sample((suiteIndex, recordsPerKey, sizes) =>
        {
            RecordCipherSuite suite = new[] { RecordCipherSuite.Aes128GcmSha256, RecordCipherSuite.Aes256GcmSha384,
                RecordCipherSuite.ChaCha20Poly1305Sha256 }[suiteIndex];
            (RecordLayer client, RecordLayer server, _) = Pair(suite);
            client.RecordsPerKey = (ulong)recordsPerKey;
            byte[] expected = RandomNumberGenerator.GetBytes(sizes.Sum());
            int offset = 0;
            foreach (int size in sizes)
            {
                client.WriteAsync(new ReadOnlySequence<byte>(expected, offset, size), CancellationToken.None).AsTask().GetAwaiter()
                    .GetResult();
                offset += size;
            }

            client.CloseOutputAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var received = new ArrayBufferWriter<byte>();
            while (server.ReceiveAsync(received, CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
            }

            Assert.Equal(expected, received.WrittenSpan.ToArray());
            Assert.True(server.PeerClosed);
        }, iter: 40);
    }

    [Fact]
    public async Task KeyUpdate_RequestedByThePeer_IsAnsweredAndBothDirectionsKeepWorking()
    {
        (RecordLayer client, RecordLayer server, _) = Pair();

        client.RequestPeerKeyUpdate();
        await client.WriteAsync(new ReadOnlySequence<byte>("ping"u8.ToArray()), CancellationToken.None);
        Assert.Equal("ping"u8.ToArray(), await ReceiveAsync(server, 4));
        await server.WriteAsync(new ReadOnlySequence<byte>("pong"u8.ToArray()), CancellationToken.None);

        Assert.Equal("pong"u8.ToArray(), await ReceiveAsync(client, 4));
    }

    [Fact]
    public void Receive_RandomBytes_FailsTypedAndDeliversNothing()
    {
        Gen.Byte.Array[1, 40_000].Sample(garbage =>
        {
            (_, RecordLayer server, DuplexPair wire) = Pair();
            wire.Client.Output.WriteAsync(garbage).AsTask().GetAwaiter().GetResult();
            wire.Client.Output.Complete();
            var received = new ArrayBufferWriter<byte>();

            SecureChannelException error = Assert.Throws<SecureChannelException>(() =>
            {
                while (server.ReceiveAsync(received, CancellationToken.None).AsTask().GetAwaiter().GetResult())
                {
                }
            });

            Assert.Equal(0, received.WrittenCount);
            Assert.True(error.Reason is ChannelFailureReason.ProtocolViolation or ChannelFailureReason.RecordTampered or
                ChannelFailureReason.Truncated);
        }, iter: 200);
    }

    [Fact]
    public void Receive_WellFramedRecordsWithForgedCiphertext_AreTamperedNeverDelivered()
    {
        Gen.Int[17, 16_640].Sample(length =>
        {
            (_, RecordLayer server, DuplexPair wire) = Pair();
            byte[] record = new byte[5 + length];
            RandomNumberGenerator.Fill(record.AsSpan(5));
            record[0] = 23;
            record[1] = 3;
            record[2] = 3;
            record[3] = (byte)(length >> 8);
            record[4] = (byte)length;
            wire.Client.Output.WriteAsync(record).AsTask().GetAwaiter().GetResult();
            var received = new ArrayBufferWriter<byte>();

            SecureChannelException error = Assert.Throws<SecureChannelException>(() => server.ReceiveAsync(received, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult());

            // Up to 2^14 + 1 bytes of inner plaintext the forgery fails its tag; beyond, it is refused unopened (record_overflow).
            Assert.Equal(length <= RecordLayer.MaxPlaintext + 1 + 16 ? ChannelFailureReason.RecordTampered
                : ChannelFailureReason.ProtocolViolation, error.Reason);
            Assert.Equal(0, received.WrittenCount);
        }, iter: 100);
    }

    [Fact]
    public async Task Receive_DataAfterClose_IsNeverDelivered()
    {
        RecordCipherSuite suite = RecordCipherSuite.Aes256GcmSha384;
        byte[] clientSecret = RandomNumberGenerator.GetBytes(suite.HashLength);
        var wire = new DuplexPair(new PipeOptions(pauseWriterThreshold: 0));
        var client = new RecordLayer(wire.Client, suite, clientSecret.ToArray(), new byte[suite.HashLength], isClient: true);
        var server = new RecordLayer(wire.Server, suite, new byte[suite.HashLength], clientSecret.ToArray(), isClient: false);
        await client.WriteAsync(new ReadOnlySequence<byte>("before"u8.ToArray()), CancellationToken.None);
        await client.CloseOutputAsync(CancellationToken.None);

        // Forge a valid record that follows the close_notify: the same keys, at sequence number 2.
        var forgeWire = new DuplexPair(new PipeOptions(pauseWriterThreshold: 0));
        var forger = new RecordLayer(forgeWire.Client, suite, clientSecret.ToArray(), new byte[suite.HashLength], isClient: true);
        foreach (byte[] data in new[] { "xx"u8.ToArray(), "yy"u8.ToArray(), "after"u8.ToArray() })
        {
            await forger.WriteAsync(new ReadOnlySequence<byte>(data), CancellationToken.None);
        }

        ReadResult forged = await forgeWire.Server.Input.ReadAsync();
        byte[] afterRecord = forged.Buffer.Slice(2 * 24).ToArray();
        var serverInput = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        ReadResult genuine = await wire.Server.Input.ReadAsync();
        await serverInput.Writer.WriteAsync(genuine.Buffer.ToArray());
        await serverInput.Writer.WriteAsync(afterRecord);
        var reader = new RecordLayer(new DuplexPair.Duplex(serverInput.Reader, new Pipe().Writer), suite, new byte[suite.HashLength],
            clientSecret.ToArray(), isClient: false);

        var received = new ArrayBufferWriter<byte>();
        while (await reader.ReceiveAsync(received, CancellationToken.None))
        {
        }

        Assert.Equal("before"u8.ToArray(), received.WrittenSpan.ToArray());
        Assert.False(await reader.ReceiveAsync(received, CancellationToken.None));
        Assert.Equal(6, received.WrittenCount);
        server.Dispose();
    }
}
