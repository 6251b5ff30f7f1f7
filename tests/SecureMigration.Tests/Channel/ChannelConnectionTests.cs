using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

public sealed class ChannelConnectionTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task Dispose_PeerStoppedReading_DropsTheConnectionOnceTheCloseTimeoutPasses()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var destination = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), destination);
        listener.Start();
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source), time));
        ChannelConnection connection = await source.ConnectAsync(listener.LocalEndPoint, ChannelHarness.Ticket());
        await using ChannelConnection? peer = await listener.AcceptAsync(); // authenticated, then never read
        Assert.NotNull(peer);

        // Fill every buffer between the ends until a flush must wait for the peer, then give that flush up, as the
        // coordinator does when its stall timeout fires.
        using var stall = new CancellationTokenSource();
        byte[] chunk = new byte[64 * 1024];
        ValueTask<FlushResult> flush;
        while (true)
        {
            connection.Channel.Output.Write(chunk);
            flush = connection.Channel.Output.FlushAsync(stall.Token);
            if (!flush.IsCompleted)
            {
                break;
            }

            await flush;
        }

        await stall.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await flush);

        Task closing = connection.DisposeAsync().AsTask();
        Assert.False(closing.IsCompleted, "close_notify cannot reach a peer that does not read");
        time.Advance(ChannelConnection.CloseTimeout);

        await closing.WaitAsync(TimeSpan.FromSeconds(30)); // without the bound, this waits for the peer forever
    }
}
