using System.Net;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;
using SecureMigration.Cli.Live;
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
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", CancellationToken.None);
        MigrationTicket ticket = ChannelHarness.Ticket();

        await using MigrationConnection connection = await early.ConnectAsync(ticket, CancellationToken.None);
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.Equal(ticket.MigrationId, accepted!.Ticket.MigrationId);
        Assert.Equal(1, _handshakes);
    }

    [Fact]
    public async Task ConnectAsync_ChannelNoLongerFresh_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelFactory source = Source(time);
        // The channel's age counts from the opening's start, taken as the early channel is made.
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", CancellationToken.None);

        time.Advance(ChannelHarness.Options(pki.Credentials(pki.Source)).HandshakeTimeout / 2);
        await using MigrationConnection connection = await early.ConnectAsync(ChannelHarness.Ticket(time), CancellationToken.None);
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.NotNull(accepted);
        Assert.Equal(2, _handshakes);
    }

    [Fact]
    public async Task ConnectAsync_SecondAttempt_ConnectsAnew()
    {
        await using SecureChannelListener listener = Listen();
        SecureChannelFactory source = Source(TimeProvider.System);
        await using var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", CancellationToken.None);

        await using (await early.ConnectAsync(ChannelHarness.Ticket(), CancellationToken.None))
        {
        }

        MigrationTicket retry = ChannelHarness.Ticket();
        await using MigrationConnection again = await early.ConnectAsync(retry, CancellationToken.None);

        Assert.Equal(retry.MigrationId, again.Ticket.MigrationId);
        Assert.Equal(2, _handshakes);
    }

    [Fact]
    public async Task DisposeAsync_NoAttemptSentATicket_StopsOrClosesTheChannelAndWipesItsSecrets()
    {
        await using SecureChannelListener listener = Listen();
        HandshakeState? state = null;
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)))
        {
            HandshakeStateCreated = created => state = created,
        };
        var early = new EarlyChannel(source, listener.LocalEndPoint, "destination.test", CancellationToken.None);

        await early.DisposeAsync();

        // Disposed at once, the opening either had not begun its handshake (no state) or is stopped and wiped.
        Assert.False(state?.BindingKey is { } key && key.AsSpan().ContainsAnyExcept((byte)0), "the binding key survived");
        Assert.False(state?.ClientTrafficSecret is { } secret && secret.AsSpan().ContainsAnyExcept((byte)0), "a traffic secret survived");
    }

    private SecureChannelFactory Source(TimeProvider time) => new(ChannelHarness.Options(pki.Credentials(pki.Source), time))
    {
        HandshakeStateCreated = _ => Interlocked.Increment(ref _handshakes),
    };

    private SecureChannelListener Listen()
    {
        var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0),
            new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination))));
        listener.Start();
        return listener;
    }
}
