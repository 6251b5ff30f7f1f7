using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Cli.Live;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>An agent keeps one channel per destination open after a completed migration for the next one there, while it is
/// fresh and its credentials are those of now (ADR 0030).</summary>
public sealed class WarmChannelsTests(TestPki pki) : IClassFixture<TestPki>
{
    private int _handshakes;

    [Fact]
    public async Task Take_NothingKept_ReturnsNull()
    {
        await using SecureChannelListener listener = Listen();
        await using var warm = new WarmChannels(Source(TimeProvider.System));

        Assert.Null(warm.Take(listener.LocalEndPoint, "destination.test"));
        Assert.Equal(0, _handshakes);
    }

    [Fact]
    public async Task Take_AfterOpen_GivesOneChannelThatCarriesATicket()
    {
        await using SecureChannelListener listener = Listen();
        await using var warm = new WarmChannels(Source(TimeProvider.System));
        warm.Open(listener.LocalEndPoint, "destination.test");
        warm.Open(listener.LocalEndPoint, "destination.test");

        Task<OpenedChannel>? taken = warm.Take(listener.LocalEndPoint, "destination.test");
        await using OpenedChannel opened = await taken!;
        MigrationTicket ticket = ChannelHarness.Ticket();
        await using ChannelConnection connection = await opened.SendTicketAsync(ticket);
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.Equal(ticket.MigrationId, accepted!.Ticket.MigrationId);
        Assert.Null(warm.Take(listener.LocalEndPoint, "destination.test"));
        Assert.Equal(1, _handshakes);
    }

    /// <summary>A channel opened before this host reloaded its credentials or peer policy (its peer was checked against the old
    /// ones) is not used.</summary>
    [Fact]
    public async Task Take_CredentialsReloadedSinceItOpened_ReturnsNullAndClosesIt()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        await using var warm = new WarmChannels(source);
        warm.Open(listener.LocalEndPoint, "destination.test");
        await Eventually.TrueAsync(() => listener.WaitingForTickets == 1);

        source.Rotate(pki.Credentials(pki.Source), new PeerPolicy());

        Assert.Null(warm.Take(listener.LocalEndPoint, "destination.test"));
        await Eventually.TrueAsync(() => listener.WaitingForTickets == 0);
    }

    /// <summary>A channel kept until it is stale is closed then (the destination holds nothing for it any longer), and not opened
    /// again.</summary>
    [Fact]
    public async Task Expiry_ChannelStale_IsClosedAndNotTaken()
    {
        await using SecureChannelListener listener = Listen();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelFactory source = Source(time);
        await using var warm = new WarmChannels(source);
        warm.Open(listener.LocalEndPoint, "destination.test");
        await Eventually.TrueAsync(() => listener.WaitingForTickets == 1);

        time.Advance(ChannelHarness.Options(pki.Credentials(pki.Source)).TicketWaitTimeout / 2);

        await Eventually.TrueAsync(() => listener.WaitingForTickets == 0);
        Assert.Null(warm.Take(listener.LocalEndPoint, "destination.test"));
        Assert.Equal(1, _handshakes);
    }

    private SecureChannelFactory Source(TimeProvider time) => new(ChannelHarness.Options(pki.Credentials(pki.Source), time))
    {
        HandshakeStateCreated = _ => Interlocked.Increment(ref _handshakes),
    };

    private SecureChannelListener Listen() =>
        ChannelHarness.Listen(new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination))));
}
