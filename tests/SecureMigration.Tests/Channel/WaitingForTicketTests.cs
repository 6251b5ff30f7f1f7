using System.Net;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>A channel whose source authenticated waits for its ticket (ADR 0030) in a place of its own, bounded per peer, up to the
/// ticket wait timeout, and holds no handshake slot meanwhile; a ticket that comes after the destination reloaded its credentials
/// is not read.</summary>
public sealed class WaitingForTicketTests(TestPki pki) : IClassFixture<TestPki>
{
    /// <summary>With one handshake slot for the source's prefix, a channel opened ahead waits for its ticket while another
    /// migration's handshake runs and is served.</summary>
    [Fact]
    public async Task Accept_AuthenticatedChannelWaitingForItsTicket_HoldsNoHandshakeSlot()
    {
        await using SecureChannelListener listener = Listen(new SecureChannelListenerOptions
        {
            MaxHandshakesPerPrefix = 1, ReservedForKnownSources = 0,
        });
        SecureChannelFactory source = Source();
        await using OpenedChannel waiting = await OpenWaitingAsync(source, listener);

        MigrationTicket other = ChannelHarness.Ticket();
        await using ChannelConnection connected = await source.ConnectAsync(listener.LocalEndPoint, other);
        await using ChannelConnection? served = await listener.AcceptAsync();

        Assert.Equal(other.MigrationId, served!.Ticket.MigrationId);
        Assert.Equal(0, listener.ActiveHandshakes);
        MigrationTicket first = ChannelHarness.Ticket();
        await using ChannelConnection later = await waiting.SendTicketAsync(first);
        await using ChannelConnection? servedLater = await listener.AcceptAsync();
        Assert.Equal(first.MigrationId, servedLater!.Ticket.MigrationId);
    }

    /// <summary>A peer that keeps the most channels waiting gives up its oldest for a new one: the oldest is closed with its
    /// ticket unread (the source may send it on a new connection), the new one carries its ticket.</summary>
    [Fact]
    public async Task Accept_PeerKeepsTheMostWaitingChannels_ItsOldestIsClosedUnread()
    {
        await using SecureChannelListener listener = Listen(new SecureChannelListenerOptions
        {
            MaxWaitingChannelsPerPeer = 1, MaxWaitingChannels = 4,
        });
        SecureChannelFactory source = Source();
        await using OpenedChannel oldest = await OpenWaitingAsync(source, listener);

        await using OpenedChannel newer = await source.OpenAsync(listener.LocalEndPoint, "destination.test");
        // Served first: its place, taken as it authenticated, was the oldest's.
        MigrationTicket ticket = ChannelHarness.Ticket();
        await using ChannelConnection connected = await newer.SendTicketAsync(ticket);
        await using ChannelConnection? served = await listener.AcceptAsync();

        HandshakeFailedException closed = await Assert.ThrowsAsync<HandshakeFailedException>(() =>
            oldest.SendTicketAsync(ChannelHarness.Ticket()));
        Assert.True(closed.TicketNotRead, closed.Message);
        Assert.Equal(ticket.MigrationId, served!.Ticket.MigrationId);
        Assert.Equal(0, listener.WaitingForTickets);
    }

    /// <summary>Channels whose tickets were accepted but that the listener's queue cannot take yet keep their places: no peer gets
    /// more accepted channels waiting than its places, as none held a handshake slot any longer.</summary>
    [Fact]
    public async Task Accept_AcceptQueueFull_AcceptedChannelsKeepTheirPlaces()
    {
        await using SecureChannelListener listener = Listen(new SecureChannelListenerOptions
        {
            MaxWaitingChannelsPerPeer = 2, MaxWaitingChannels = 2, AcceptBacklog = 1,
        });
        SecureChannelFactory source = Source();
        var connected = new List<ChannelConnection>();
        try
        {
            // One in the queue, two more held by their places, then nothing: the peer's places are all taken by accepted channels.
            for (int i = 0; i < 3; i++)
            {
                connected.Add(await source.ConnectAsync(listener.LocalEndPoint, ChannelHarness.Ticket()));
            }

            await Eventually.TrueAsync(() => listener.WaitingForTickets == 2);
            await Assert.ThrowsAsync<HandshakeFailedException>(() => source.ConnectAsync(listener.LocalEndPoint, ChannelHarness.Ticket()));
            Assert.Equal(2, listener.WaitingForTickets);
        }
        finally
        {
            foreach (ChannelConnection connection in connected)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>A channel waits for its ticket past the handshake timeout, up to the ticket wait timeout.</summary>
    [Fact]
    public async Task Accept_TicketJustBeforeTheTicketWaitTimeout_IsServed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelOptions options = ChannelHarness.Options(pki.Credentials(pki.Destination), time);
        await using SecureChannelListener listener = Listen(new SecureChannelListenerOptions(), time);
        await using OpenedChannel opened = await OpenWaitingAsync(Source(), listener);

        time.Advance(options.TicketWaitTimeout - TimeSpan.FromTicks(1));
        MigrationTicket ticket = ChannelHarness.Ticket();
        await using ChannelConnection connected = await opened.SendTicketAsync(ticket);
        await using ChannelConnection? served = await listener.AcceptAsync();

        Assert.True(options.TicketWaitTimeout > options.HandshakeTimeout);
        Assert.Equal(ticket.MigrationId, served!.Ticket.MigrationId);
    }

    [Fact]
    public async Task Accept_NoTicketWithinTheTicketWaitTimeout_ClosesTheChannel()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelOptions options = ChannelHarness.Options(pki.Credentials(pki.Destination), time);
        await using SecureChannelListener listener = Listen(new SecureChannelListenerOptions(), time);
        await using OpenedChannel opened = await OpenWaitingAsync(Source(), listener);

        time.Advance(options.TicketWaitTimeout);

        await Eventually.TrueAsync(() => listener.WaitingForTickets == 0);
        await Assert.ThrowsAsync<HandshakeFailedException>(() => opened.SendTicketAsync(ChannelHarness.Ticket()));
    }

    /// <summary>The destination reloads its credentials while a channel waits: its ticket is not read, the channel is closed, and
    /// the replay cache never saw the ticket, so the source can send it on a channel checked against the new credentials.</summary>
    [Fact]
    public async Task Accept_CredentialsReloadedWhileTheChannelWaited_TheTicketIsNotReadAndCanBeSentAnew()
    {
        var destination = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        await using SecureChannelListener listener = Listen(destination);
        SecureChannelFactory source = Source();
        await using OpenedChannel opened = await OpenWaitingAsync(source, listener);
        destination.Rotate(pki.Credentials(pki.Destination), new PeerPolicy());
        MigrationTicket ticket = ChannelHarness.Ticket();

        HandshakeFailedException closed = await Assert.ThrowsAsync<HandshakeFailedException>(() => opened.SendTicketAsync(ticket));

        Assert.Equal(HandshakeFailureReason.Truncated, closed.Reason);
        await using ChannelConnection connected = await source.ConnectAsync(listener.LocalEndPoint, ticket);
        await using ChannelConnection? served = await listener.AcceptAsync();
        Assert.Equal(ticket.MigrationId, served!.Ticket.MigrationId);
    }

    /// <summary>A channel the source closes without a ticket (opened ahead, not needed) is closed cleanly: the destination logs no
    /// failed handshake for it, only a debug line.</summary>
    [Fact]
    public async Task Accept_SourceClosesAChannelItDidNotNeed_NoFailureIsLogged()
    {
        var lines = new List<string>();
        var destination = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)), new ListLoggerFactory(lines));
        await using SecureChannelListener listener = Listen(destination);
        OpenedChannel opened = await OpenWaitingAsync(Source(), listener);

        await opened.DisposeAsync();

        await Eventually.TrueAsync(() => listener.WaitingForTickets == 0);
        lock (lines)
        {
            Assert.Contains(lines, line => line.Contains("not needed", StringComparison.Ordinal));
            Assert.DoesNotContain(lines, line => line.Contains("refused", StringComparison.Ordinal));
        }
    }

    /// <summary>A ticket sent within half the wait must still have the handshake timeout for its check: a shorter wait is refused
    /// with the option's name and what it must be.</summary>
    [Fact]
    public void Validate_TicketWaitUnderTwiceTheHandshakeTimeout_NamesTheOption()
    {
        SecureChannelOptions options = ChannelHarness.Options(pki.Credentials(pki.Destination));
        options.TicketWaitTimeout = 2 * options.HandshakeTimeout - TimeSpan.FromTicks(1);

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("TicketWaitTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("at least twice the handshake timeout", error.Message, StringComparison.Ordinal);
        options.TicketWaitTimeout = 2 * options.HandshakeTimeout;
        options.Validate();
    }

    /// <summary>Opens a channel through <paramref name="listener"/> and waits until it is the only one waiting for its ticket
    /// there.</summary>
    private static async Task<OpenedChannel> OpenWaitingAsync(SecureChannelFactory source, SecureChannelListener listener)
    {
        OpenedChannel opened = await source.OpenAsync(listener.LocalEndPoint, "destination.test");
        await Eventually.TrueAsync(() => listener.WaitingForTickets == 1);
        return opened;
    }

    private SecureChannelFactory Source() => new(ChannelHarness.Options(pki.Credentials(pki.Source)));

    private SecureChannelListener Listen(SecureChannelListenerOptions limits, TimeProvider? time = null) =>
        Listen(new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time)), limits);

    private static SecureChannelListener Listen(SecureChannelFactory factory, SecureChannelListenerOptions? limits = null)
    {
        var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory, limits);
        listener.Start();
        return listener;
    }
}
