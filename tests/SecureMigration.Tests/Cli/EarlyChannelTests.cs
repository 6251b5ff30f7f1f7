using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;
using SecureMigration.Cli.Live;
using SecureMigration.Identity;
using SecureMigration.Testing.Network;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>The channel a source opens as its migration starts carries the first attempt's ticket while it is fresh; a stale
/// one, and every later attempt, connect anew.</summary>
public sealed class EarlyChannelTests(TestPki pki) : IClassFixture<TestPki>
{
    private int _handshakes;

    [Fact]
    public async Task ConnectAsync_FirstAttempt_SendsItsTicketOnTheChannelOpenedEarly()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm: null, CancellationToken.None);

        await AssertCarriesATicketAsync(early, listener, handshakes: 1);
    }

    /// <summary>A channel opened so long ago that the destination may have stopped waiting is closed, not used: the attempt
    /// connects anew.</summary>
    [Fact]
    public async Task ConnectAsync_ChannelNoLongerFresh_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelFactory source = Source(time);
        Task<OpenedChannel> opened = source.OpenAsync(listener.LocalEndPoint, "destination.test");
        await opened;
        time.Advance(ChannelHarness.Options(pki.Credentials(pki.Source)).TicketWaitTimeout / 2);
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", opened, CancellationToken.None);

        await AssertCarriesATicketAsync(early, listener, handshakes: 2, time);
    }

    /// <summary>A channel opened before this host reloaded its credentials or peer policy checked its peer against the old ones
    /// (a CRL may now revoke it): the attempt connects anew.</summary>
    [Fact]
    public async Task ConnectAsync_CredentialsReloadedSinceTheChannelOpened_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm: null, CancellationToken.None);
        await early.Opening;
        source.Rotate(pki.Credentials(pki.Source), new PeerPolicy());

        await AssertCarriesATicketAsync(early, listener, handshakes: 2);
    }

    /// <summary>An opening whose connection broke (a destination restarting, its first-byte timer on a loaded host) is not the
    /// attempt's failure: the attempt connects anew.</summary>
    [Fact]
    public async Task ConnectAsync_OpeningsConnectionBroke_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        await using var relay = new NetworkAttacker(listener.LocalEndPoint) { CutAt = 16 };
        await using var early = new EarlyChannel(Source(TimeProvider.System), relay.EndPoint, "destination.test", warm: null, CancellationToken.None);
        HandshakeFailedException broke = await Assert.ThrowsAsync<HandshakeFailedException>(() => early.Opening);
        Assert.Equal(HandshakeFailureReason.Truncated, broke.Reason);
        relay.CutAt = null;

        MigrationTicket ticket = ChannelHarness.Ticket();
        await using MigrationConnection connection = await early.ConnectAsync(ticket, CancellationToken.None);

        Assert.Equal(ticket.MigrationId, connection.Ticket.MigrationId);
        Assert.Equal(2, _handshakes);
    }

    /// <summary>A channel the agent kept open since its last migration to the destination carries the first attempt's ticket: no
    /// handshake on the migration's path.</summary>
    [Fact]
    public async Task ConnectAsync_WarmChannelGiven_SendsTheTicketOnItWithoutAHandshake()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        Task<OpenedChannel> warm = source.OpenAsync(listener.LocalEndPoint, "destination.test");
        await warm;
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm, CancellationToken.None);

        await AssertCarriesATicketAsync(early, listener, handshakes: 1);
    }

    /// <summary>The destination closed the kept channel before it answered the ticket (here: it reloaded its credentials): the
    /// attempt sends the same ticket on a new connection.</summary>
    [Fact]
    public async Task ConnectAsync_DestinationClosedTheWarmChannel_SendsTheTicketOnANewConnection()
    {
        var destination = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        await using SecureChannelListener listener = Listen(destination);
        SecureChannelFactory source = Source(TimeProvider.System);
        Task<OpenedChannel> warm = source.OpenAsync(listener.LocalEndPoint, "destination.test");
        await warm;
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm, CancellationToken.None);
        destination.Rotate(pki.Credentials(pki.Destination), new PeerPolicy());

        await AssertCarriesATicketAsync(early, listener, handshakes: 2);
    }

    /// <summary>The destination took the ticket (its nonce is spent) and its answer was lost with the connection: the ticket is not
    /// sent again (the destination would refuse it as a replay, for good); the attempt fails, and the coordinator's retry brings a
    /// new ticket.</summary>
    [Fact]
    public async Task ConnectAsync_AnswerLostAfterTheDestinationTookTheTicket_IsTheAttemptsFailure()
    {
        await using SecureChannelListener listener = Listen();
        await using var relay = new NetworkAttacker(listener.LocalEndPoint);
        await using var early = new EarlyChannel(Source(TimeProvider.System), relay.EndPoint, "destination.test", warm: null,
            CancellationToken.None);
        await early.Opening;
        relay.DropFromDestination();

        Task<MigrationConnection> connecting = early.ConnectAsync(ChannelHarness.Ticket(), CancellationToken.None);
        await using ChannelConnection? taken = await listener.AcceptAsync();
        relay.CutNow();

        HandshakeFailedException failed = await Assert.ThrowsAsync<HandshakeFailedException>(() => connecting);
        Assert.False(failed.TicketNotRead);
        Assert.Equal(1, _handshakes);
    }

    [Fact]
    public async Task ConnectAsync_SecondAttempt_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm: null, CancellationToken.None);

        await using (await early.ConnectAsync(ChannelHarness.Ticket(), CancellationToken.None))
        {
        }

        MigrationTicket retry = ChannelHarness.Ticket();
        await using MigrationConnection again = await early.ConnectAsync(retry, CancellationToken.None);

        Assert.Equal(retry.MigrationId, again.Ticket.MigrationId);
        Assert.Equal(2, _handshakes);
    }

    [Fact]
    public async Task DisposeAsync_NoAttemptSentATicket_ClosesTheChannelAndWipesItsSecrets()
    {
        await using SecureChannelListener listener = Listen();
        HandshakeState? state = null;
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)))
        {
            HandshakeStateCreated = created => state = created,
        };
        var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm: null, CancellationToken.None);
        OpenedChannel opened = await early.Opening;
        Assert.True(state!.BindingKey.AsSpan().ContainsAnyExcept((byte)0));

        await early.DisposeAsync();

        await AssertClosedAndWipedAsync(opened, state);
    }

    /// <summary>A channel no attempt took is closed once it is stale, not held open (with a slot at the destination) until the
    /// migration ends.</summary>
    [Fact]
    public async Task Expiry_ChannelUnusedUntilItIsStale_IsClosedAndTheFirstAttemptConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        HandshakeState? state = null;
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source), time))
        {
            HandshakeStateCreated = created =>
            {
                state ??= created;
                Interlocked.Increment(ref _handshakes);
            },
        };
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", warm: null, CancellationToken.None);
        OpenedChannel opened = await early.Opening;
        time.Advance(ChannelHarness.Options(pki.Credentials(pki.Source)).TicketWaitTimeout / 2 - TimeSpan.FromTicks(1));
        Assert.True(state!.BindingKey.AsSpan().ContainsAnyExcept((byte)0), "closed while still fresh");

        time.Advance(TimeSpan.FromTicks(1));

        await AssertClosedAndWipedAsync(opened, state);
        await using MigrationConnection connection = await early.ConnectAsync(ChannelHarness.Ticket(time), CancellationToken.None);
        Assert.Equal(2, _handshakes);
    }

    /// <summary>The attempt's ticket reaches the destination, after <paramref name="handshakes"/> handshakes in all.</summary>
    private async Task AssertCarriesATicketAsync(EarlyChannel early, SecureChannelListener listener, int handshakes,
        TimeProvider? time = null)
    {
        MigrationTicket ticket = ChannelHarness.Ticket(time);

        await using MigrationConnection connection = await early.ConnectAsync(ticket, CancellationToken.None);
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.Equal(ticket.MigrationId, accepted!.Ticket.MigrationId);
        Assert.Equal(handshakes, _handshakes);
    }

    /// <summary>The traffic secrets are wiped as the handshake ends; the binding key waits for the ticket.</summary>
    private static async Task AssertClosedAndWipedAsync(OpenedChannel opened, HandshakeState state)
    {
        Assert.False(state.BindingKey.AsSpan().ContainsAnyExcept((byte)0), "the binding key survived");
        await Assert.ThrowsAsync<InvalidOperationException>(() => opened.SendTicketAsync(ChannelHarness.Ticket()));
    }

    private SecureChannelFactory Source(TimeProvider time) => new(ChannelHarness.Options(pki.Credentials(pki.Source), time))
    {
        HandshakeStateCreated = _ => Interlocked.Increment(ref _handshakes),
    };

    private SecureChannelListener Listen(SecureChannelFactory? destination = null) =>
        ChannelHarness.Listen(destination ?? new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination))));
}
