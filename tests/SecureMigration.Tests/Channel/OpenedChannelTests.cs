using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>A channel opened before its ticket (<see cref="SecureChannelFactory.OpenAsync"/>): the ticket goes only to the
/// destination it was opened to, once, and an unused channel leaves no secret behind.</summary>
public sealed class OpenedChannelTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task SendTicketAsync_AfterTheHandshake_TheDestinationAcceptsTheChannelWithThatTicket()
    {
        await using var listener = Listen();
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        MigrationTicket ticket = ChannelHarness.Ticket();

        await using OpenedChannel opened = await source.OpenAsync(listener.LocalEndPoint, "destination.test");
        await using ChannelConnection connection = await opened.SendTicketAsync(ticket);
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.Contains("destination.test", opened.Peer.Names);
        Assert.Equal(ticket.MigrationId, accepted!.Ticket.MigrationId);
        Assert.Equal(ticket.MigrationId, connection.Ticket.MigrationId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => opened.SendTicketAsync(ChannelHarness.Ticket()));
    }

    [Fact]
    public async Task SendTicketAsync_TicketForAnotherDestination_IsNotSent()
    {
        await using var listener = Listen();
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        await using OpenedChannel opened = await source.OpenAsync(listener.LocalEndPoint, "destination.test");

        HandshakeFailedException refused = await Assert.ThrowsAsync<HandshakeFailedException>(() =>
            opened.SendTicketAsync(ChannelHarness.Ticket(destination: "other.test")));

        Assert.Equal(HandshakeFailureReason.TicketRefused, refused.Reason);
        Assert.Contains("was not sent", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_PeerIsNotTheNamedDestination_IsRefusedBeforeAnyTicket()
    {
        await using var listener = Listen();
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));

        await Assert.ThrowsAsync<HandshakeFailedException>(() => source.OpenAsync(listener.LocalEndPoint, "other.test"));
    }

    /// <summary>With a name configured (<c>PeerPolicy.ExpectedName</c>), TLS checks that name; the channel still goes only to a
    /// peer that proved the name it was opened to.</summary>
    [Fact]
    public async Task OpenAsync_ConfiguredExpectedNameButOpenedToAnother_IsRefusedBeforeAnyTicket()
    {
        await using var listener = Listen();
        SecureChannelOptions options = ChannelHarness.Options(pki.Credentials(pki.Source));
        options.PeerPolicy.ExpectedName = "destination.test";
        var source = new SecureChannelFactory(options);

        HandshakeFailedException refused = await Assert.ThrowsAsync<HandshakeFailedException>(() =>
            source.OpenAsync(listener.LocalEndPoint, "other.test"));

        Assert.Equal(HandshakeFailureReason.TicketRefused, refused.Reason);
    }

    [Fact]
    public async Task IsFresh_HalfTheTicketWaitTimeoutAfterItsStart_IsFalse()
    {
        await using var listener = Listen();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelOptions options = ChannelHarness.Options(pki.Credentials(pki.Source), time);
        var source = new SecureChannelFactory(options);
        await using OpenedChannel opened = await source.OpenAsync(listener.LocalEndPoint, "destination.test");

        time.Advance(options.TicketWaitTimeout / 2 - TimeSpan.FromTicks(1));
        Assert.True(opened.IsFresh);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(opened.IsFresh);
    }

    [Fact]
    public async Task DisposeAsync_NoTicketSent_WipesTheHandshakesSecrets()
    {
        await using var listener = Listen();
        var states = new ConcurrentQueue<HandshakeState>();
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)))
        {
            HandshakeStateCreated = states.Enqueue,
        };
        OpenedChannel opened = await source.OpenAsync(listener.LocalEndPoint, "destination.test");
        HandshakeState state = Assert.Single(states);
        Assert.True(state.BindingKey is { Length: > 0 } key && key.AsSpan().ContainsAnyExcept((byte)0),
            "the channel waiting for its ticket holds the ticket's binding key");
        Assert.False(state.ServerTrafficSecret!.AsSpan().ContainsAnyExcept((byte)0),
            "a traffic secret outlived the handshake (the record layer has its own copies)");

        await opened.DisposeAsync();

        Assert.False(state.BindingKey!.AsSpan().ContainsAnyExcept((byte)0), "the binding key survived DisposeAsync");
        Assert.False(state.ClientTrafficSecret!.AsSpan().ContainsAnyExcept((byte)0), "a traffic secret survived DisposeAsync");
        await Assert.ThrowsAsync<InvalidOperationException>(() => opened.SendTicketAsync(ChannelHarness.Ticket()));
    }

    private SecureChannelListener Listen()
    {
        var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0),
            new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination))));
        listener.Start();
        return listener;
    }
}
