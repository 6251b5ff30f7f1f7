using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Tests.Channel;

/// <summary>A ticket's expiry is on the source's clock: the destination tolerates the configured skew, and not a second more.</summary>
public sealed class TicketVerifierTests
{
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);
    private static readonly PeerIdentity Source = new("source.test", ["source.test"], "pin");

    private readonly FakeTimeProvider _destinationClock = new(new DateTimeOffset(2026, 12, 4, 8, 0, 0, TimeSpan.Zero));

    private TicketVerifier Verifier() => new("destination.test", MaxLifetime, Skew, new TicketReplayCache(16), null, _destinationClock);

    /// <summary>A ticket issued by a source whose clock is <paramref name="sourceAhead"/> ahead of the destination's.</summary>
    private MigrationTicket Ticket(TimeSpan sourceAhead, TimeSpan lifetime) =>
        MigrationTicket.Create("vm-1", "source.test", "destination.test", 1, lifetime,
            new FakeTimeProvider(_destinationClock.GetUtcNow() + sourceAhead));

    private static async Task<(TicketRefusal Refusal, string Detail)> VerifyAsync(TicketVerifier verifier, MigrationTicket ticket) =>
        await verifier.VerifyAsync(ticket, Source, CancellationToken.None);

    [Fact]
    public async Task VerifyAsync_ExpiredLessThanTheSkewAgo_Accepts()
    {
        MigrationTicket ticket = Ticket(TimeSpan.Zero, TimeSpan.FromMinutes(1));
        _destinationClock.Advance(TimeSpan.FromMinutes(1) + Skew - TimeSpan.FromSeconds(1));

        Assert.Equal(TicketRefusal.None, (await VerifyAsync(Verifier(), ticket)).Refusal);
    }

    [Fact]
    public async Task VerifyAsync_ExpiredMoreThanTheSkewAgo_RefusesNamingBothClocks()
    {
        MigrationTicket ticket = Ticket(TimeSpan.Zero, TimeSpan.FromMinutes(1));
        _destinationClock.Advance(TimeSpan.FromMinutes(1) + Skew + TimeSpan.FromSeconds(1));

        (TicketRefusal refusal, string detail) = await VerifyAsync(Verifier(), ticket);

        Assert.Equal(TicketRefusal.Expired, refusal);
        Assert.Contains("2026-12-04 08:01:00Z on the source's clock", detail, StringComparison.Ordinal);
        Assert.Contains("this host's clock reads 2026-12-04 08:01:31Z", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_SourceClockAheadByLessThanTheSkew_Accepts()
    {
        MigrationTicket ticket = Ticket(Skew - TimeSpan.FromSeconds(1), MaxLifetime);

        Assert.Equal(TicketRefusal.None, (await VerifyAsync(Verifier(), ticket)).Refusal);
    }

    [Fact]
    public async Task VerifyAsync_SourceClockAheadByMoreThanTheSkew_RefusesNamingBothClocks()
    {
        MigrationTicket ticket = Ticket(Skew + TimeSpan.FromSeconds(1), MaxLifetime);

        (TicketRefusal refusal, string detail) = await VerifyAsync(Verifier(), ticket);

        Assert.Equal(TicketRefusal.LifetimeTooLong, refusal);
        Assert.Contains("on the source's clock", detail, StringComparison.Ordinal);
        Assert.Contains("this host's clock (2026-12-04 08:00:00Z)", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_ReplayedAfterExpiryWithinTheSkew_RefusesAsReplayed()
    {
        TicketVerifier verifier = Verifier();
        MigrationTicket ticket = Ticket(TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Assert.Equal(TicketRefusal.None, (await VerifyAsync(verifier, ticket)).Refusal);
        _destinationClock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10));

        Assert.Equal(TicketRefusal.Replayed, (await VerifyAsync(verifier, ticket)).Refusal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(301)]
    public void Validate_TicketClockSkewOutOfRange_ThrowsNamingTheValue(int seconds)
    {
        var options = new SecureChannelOptions
        {
            Credentials = new PskChannelCredentials("id", new byte[32]),
            TicketClockSkew = TimeSpan.FromSeconds(seconds),
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("TicketClockSkew", error.Message, StringComparison.Ordinal);
    }
}
