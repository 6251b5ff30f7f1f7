using System.IO.Pipelines;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>A man in the middle who alters or cuts the stream never gets unauthenticated bytes delivered.</summary>
public sealed class TamperingTests(TestPki pki) : IClassFixture<TestPki>
{
    private SecureChannelFactory Source() => new(ChannelHarness.Options(pki.Credentials(pki.Source)));

    private SecureChannelFactory Destination() => new(ChannelHarness.Options(pki.Credentials(pki.Destination)));

    [Fact]
    public async Task Handshake_CutAtEveryRecordBoundary_FailsTypedOnBothEndsAndDeliversNothing()
    {
        // Count the records of a clean handshake plus ticket exchange, then cut after each of them in turn.
        var clean = new RecordRelay(RecordRelay.Pass);
        var (okClient, okServer) = await ChannelHarness.RunAsync(Source(), Destination(), clean.Client, clean.Server,
            ChannelHarness.Ticket());
        Assert.NotNull(okClient.Channel);
        Assert.NotNull(okServer.Channel);
        int handshakeRecords = clean.RecordCount;
        Assert.True(handshakeRecords >= 4, $"only {handshakeRecords} records seen");

        for (int cutAt = 0; cutAt < handshakeRecords; cutAt++)
        {
            int limit = cutAt;
            var relay = new RecordRelay((index, _, _) => index >= limit ? RelayAction.Cut : RelayAction.Forward);
            var (client, server) = await ChannelHarness.RunAsync(Source(), Destination(), relay.Client, relay.Server,
                ChannelHarness.Ticket());

            Assert.Null(client.Channel);
            Assert.IsType<HandshakeFailedException>(client.Error);
            if (server.Channel is { } accepted)
            {
                // Cut after the destination's acknowledgement: the destination accepted, but the source never
                // learned it and sends nothing, so the destination sees a truncated stream and no VM data.
                Assert.Equal(handshakeRecords - 1, cutAt);
                SecureChannelException error = await Assert.ThrowsAsync<SecureChannelException>(() =>
                    SecureChannelTests.ReadToEndAsync(accepted.Input));
                Assert.Equal(ChannelFailureReason.Truncated, error.Reason);
                Assert.Equal(0, accepted.BytesReceived);
            }
            else
            {
                Assert.IsType<HandshakeFailedException>(server.Error);
            }
        }
    }

    [Fact]
    public async Task Data_OneFlippedBit_FailsTheRecordAndDeliversNoByteOfIt()
    {
        int tamperRecord = -1;
        var relay = new RecordRelay((index, fromClient, record) =>
        {
            if (fromClient && Volatile.Read(ref tamperRecord) == index)
            {
                record[record.Length / 2] ^= 0x04;
            }

            return RelayAction.Forward;
        });
        var (client, server) = await ChannelHarness.RunAsync(Source(), Destination(), relay.Client, relay.Server, ChannelHarness.Ticket());
        await using SecureChannel sender = client.Channel!;
        await using SecureChannel receiver = server.Channel!;

        // The first application record after the handshake is the one to alter.
        Volatile.Write(ref tamperRecord, relay.RecordCount);
        byte[] clean = RandomNumberGenerator.GetBytes(1000);
        await sender.Output.WriteAsync(clean);

        var delivered = new MemoryStream();
        SecureChannelException error = await Assert.ThrowsAsync<SecureChannelException>(async () =>
        {
            while (true)
            {
                ReadResult result = await receiver.Input.ReadAsync();
                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                {
                    delivered.Write(segment.Span);
                }

                receiver.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });

        Assert.Equal(ChannelFailureReason.RecordTampered, error.Reason);
        Assert.Equal(0, delivered.Length);

        // The tampered channel is closed: the receiving end sends nothing more either.
        SecureChannelException writeError = await Assert.ThrowsAsync<SecureChannelException>(async () =>
            await receiver.Output.WriteAsync(new byte[1]));
        Assert.Equal(ChannelFailureReason.RecordTampered, writeError.Reason);
    }

    [Fact]
    public async Task Data_TransportEndsWithoutCloseNotify_ReportsTruncatedNotCleanEnd()
    {
        var pair = new DuplexPair();
        var (client, server) = await ChannelHarness.RunAsync(Source(), Destination(), pair.Client, pair.Server, ChannelHarness.Ticket());
        await using SecureChannel receiver = client.Channel!;
        await using SecureChannel sender = server.Channel!;
        await sender.Output.WriteAsync(new byte[100]);

        // The attacker closes the TCP stream: no close_notify is ever sent.
        await pair.Server.Output.CompleteAsync();

        SecureChannelException error = await Assert.ThrowsAsync<SecureChannelException>(() =>
            SecureChannelTests.ReadToEndAsync(receiver.Input));
        Assert.Equal(ChannelFailureReason.Truncated, error.Reason);
    }

    [Fact]
    public async Task Data_CleanClose_EndsReaderWithoutError()
    {
        var pair = new DuplexPair();
        var (client, server) = await ChannelHarness.RunAsync(Source(), Destination(), pair.Client, pair.Server, ChannelHarness.Ticket());
        await using SecureChannel receiver = client.Channel!;
        await using SecureChannel sender = server.Channel!;
        await sender.Output.WriteAsync("last words"u8.ToArray());
        await sender.Output.CompleteAsync();

        byte[] received = await SecureChannelTests.ReadToEndAsync(receiver.Input);

        Assert.Equal("last words"u8.ToArray(), received);
    }

    [Fact]
    public async Task Data_HalfClose_LetsThePeerKeepSendingAfterOurCloseNotify()
    {
        var pair = new DuplexPair();
        var (client, server) = await ChannelHarness.RunAsync(Source(), Destination(), pair.Client, pair.Server, ChannelHarness.Ticket());
        await using SecureChannel source = client.Channel!;
        await using SecureChannel destination = server.Channel!;

        await source.Output.WriteAsync("memory image"u8.ToArray());
        await source.Output.CompleteAsync();
        byte[] image = await SecureChannelTests.ReadToEndAsync(destination.Input);
        await destination.Output.WriteAsync("digest ok"u8.ToArray());
        await destination.Output.CompleteAsync();
        byte[] reply = await SecureChannelTests.ReadToEndAsync(source.Input);

        Assert.Equal("memory image"u8.ToArray(), image);
        Assert.Equal("digest ok"u8.ToArray(), reply);
    }

    [Fact]
    public void Ticket_FromAnotherSession_IsNotBound()
    {
        // A ticket encoded under one session's binding key fails the binding check in every other session.
        MigrationTicket ticket = ChannelHarness.Ticket();
        byte[] encoded = new byte[TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket, RandomNumberGenerator.GetBytes(32), encoded);

        TicketRefusal refusal = TicketCodec.TryDecode(encoded.AsSpan(0, length), RandomNumberGenerator.GetBytes(32),
            out MigrationTicket? decoded);

        Assert.Equal(TicketRefusal.BindingMismatch, refusal);
        Assert.Null(decoded);
    }
}
