using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>Every way a peer can fail to prove itself ends in a typed refusal, and the accepting side gets no channel.</summary>
public sealed class HandshakeRefusalTests(TestPki pki) : IClassFixture<TestPki>
{
    private SecureChannelFactory SourceFactory(X509ChannelCredentials? credentials = null, Action<SecureChannelOptions>? configure = null)
    {
        SecureChannelOptions options = ChannelHarness.Options(credentials ?? pki.Credentials(pki.Source));
        configure?.Invoke(options);
        return new SecureChannelFactory(options);
    }

    private SecureChannelFactory DestinationFactory(X509ChannelCredentials? credentials = null,
        Action<SecureChannelOptions>? configure = null)
    {
        SecureChannelOptions options = ChannelHarness.Options(credentials ?? pki.Credentials(pki.Destination));
        configure?.Invoke(options);
        return new SecureChannelFactory(options);
    }

    private static Task<(ChannelHarness.Outcome Client, ChannelHarness.Outcome Server)> RunAsync(SecureChannelFactory source,
        SecureChannelFactory destination,
        MigrationTicket? ticket = null)
    {
        var pair = new DuplexPair();
        return ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ticket ?? ChannelHarness.Ticket());
    }

    [Fact]
    public async Task Accept_ClientCertificateFromAnotherCa_RefusesAsUntrustedChain()
    {
        IssuedCredential rogue = pki.OtherCa.IssueHost("source.test");
        var (client, server) = await RunAsync(SourceFactory(pki.Credentials(rogue)), DestinationFactory());

        Assert.Equal(HandshakeFailureReason.UntrustedChain, server.Reason);
        Assert.Equal(HandshakeFailureReason.RefusedByPeer, client.Reason);
    }

    [Fact]
    public async Task Connect_ServerCertificateFromAnotherCa_RefusesAsUntrustedChain()
    {
        IssuedCredential rogue = pki.OtherCa.IssueHost("destination.test");
        var (client, server) = await RunAsync(SourceFactory(), DestinationFactory(pki.Credentials(rogue)));

        Assert.Equal(HandshakeFailureReason.UntrustedChain, client.Reason);
        Assert.Null(server.Channel);
    }

    [Fact]
    public async Task Connect_ExpiredServerCertificate_RefusesAsExpired()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IssuedCredential expired = pki.Ca.IssueHost("destination.test", now.AddDays(-30), now.AddDays(-1));
        var (client, server) = await RunAsync(SourceFactory(), DestinationFactory(pki.Credentials(expired)));

        Assert.Equal(HandshakeFailureReason.Expired, client.Reason);
        Assert.Null(server.Channel);
    }

    [Fact]
    public async Task Accept_NotYetValidClientCertificate_RefusesAsNotYetValid()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IssuedCredential future = pki.Ca.IssueHost("source.test", now.AddDays(1), now.AddDays(30));
        var (_, server) = await RunAsync(SourceFactory(pki.Credentials(future)), DestinationFactory());

        Assert.Equal(HandshakeFailureReason.NotYetValid, server.Reason);
    }

    [Fact]
    public async Task Connect_ServerWithAnotherName_RefusesAsNameMismatch()
    {
        IssuedCredential impostor = pki.Ca.IssueHost("impostor.test");
        var (client, server) = await RunAsync(SourceFactory(), DestinationFactory(pki.Credentials(impostor)));

        Assert.Equal(HandshakeFailureReason.NameMismatch, client.Reason);
        Assert.Contains("impostor.test", client.Error!.Message, StringComparison.Ordinal);
        Assert.Null(server.Channel);
    }

    [Fact]
    public async Task Accept_ClientNotOnAllowList_RefusesAsNotAllowed()
    {
        var (client, server) = await RunAsync(SourceFactory(),
            DestinationFactory(configure: o => o.PeerPolicy.AllowedPeers.Add("other-source.test")));

        Assert.Equal(HandshakeFailureReason.NotAllowed, server.Reason);
        Assert.Equal(HandshakeFailureReason.RefusedByPeer, client.Reason);
    }

    [Fact]
    public async Task Accept_ClientOnAllowList_Succeeds()
    {
        var (client, server) = await RunAsync(SourceFactory(),
            DestinationFactory(configure: o => o.PeerPolicy.AllowedPeers.Add("source.test")));

        Assert.NotNull(client.Channel);
        Assert.Equal("source.test", server.Channel!.Peer.Name);
    }

    [Fact]
    public async Task Connect_PinnedKeyDiffers_RefusesAsPinMismatch()
    {
        X509ChannelCredentials source = pki.Credentials(pki.Source);
        var (client, _) = await RunAsync(SourceFactory(configure: o => o.PeerPolicy.SpkiPins.Add(source.SpkiSha256)), DestinationFactory());

        Assert.Equal(HandshakeFailureReason.PinMismatch, client.Reason);
    }

    [Fact]
    public async Task Connect_PinnedKeyMatches_Succeeds()
    {
        X509ChannelCredentials destination = pki.Credentials(pki.Destination);
        var (client, _) = await RunAsync(SourceFactory(configure: o => o.PeerPolicy.SpkiPins.Add(destination.SpkiSha256)),
            DestinationFactory(destination));

        Assert.Equal(destination.SpkiSha256, client.Channel!.Peer.SpkiSha256);
    }

    [Fact]
    public async Task Accept_CertificateWithoutClientAuthUsage_RefusesAsKeyUsage()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        IssuedCredential serverOnly = pki.Ca.IssueHost("source.test", now.AddHours(-1), now.AddDays(1),
            extendedKeyUsages: ["1.3.6.1.5.5.7.3.1"]);
        var (_, server) = await RunAsync(SourceFactory(pki.Credentials(serverOnly)), DestinationFactory());

        Assert.Equal(HandshakeFailureReason.KeyUsage, server.Reason);
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcdsaP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task ConnectAccept_OtherKeyTypes_Succeed(KeyAlgorithm algorithm)
    {
        IssuedCredential source = pki.Ca.IssueHost("source.test", algorithm: algorithm);
        IssuedCredential destination = pki.Ca.IssueHost("destination.test", algorithm: algorithm);
        var (client, server) = await RunAsync(SourceFactory(pki.Credentials(source)), DestinationFactory(pki.Credentials(destination)));

        Assert.NotNull(client.Channel);
        Assert.NotNull(server.Channel);
    }

    [Fact]
    public async Task Accept_ReplayedTicket_RefusesAsTicketRefused()
    {
        SecureChannelFactory destination = DestinationFactory();
        MigrationTicket ticket = ChannelHarness.Ticket();
        var (first, _) = await RunAsync(SourceFactory(), destination, ticket);
        var (client, server) = await RunAsync(SourceFactory(), destination, ticket);

        Assert.NotNull(first.Channel);
        Assert.Equal(HandshakeFailureReason.TicketRefused, server.Reason);
        Assert.Contains("Replayed", server.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(HandshakeFailureReason.TicketRefused, client.Reason);
    }

    [Fact]
    public async Task Accept_ExpiredTicket_RefusesAsTicketRefused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        MigrationTicket ticket = ChannelHarness.Ticket(time);
        time.Advance(TimeSpan.FromMinutes(2));
        var (_, server) = await RunAsync(SourceFactory(configure: o => o.TimeProvider = time),
            DestinationFactory(configure: o => o.TimeProvider = time), ticket);

        Assert.Equal(HandshakeFailureReason.TicketRefused, server.Reason);
        Assert.Contains("Expired", server.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_TicketLongerThanAllowed_Refuses()
    {
        MigrationTicket ticket = MigrationTicket.Create("vm-1", "source.test", "destination.test", 1, TimeSpan.FromDays(1));
        var (_, server) = await RunAsync(SourceFactory(), DestinationFactory(), ticket);

        Assert.Contains(nameof(TicketRefusal.LifetimeTooLong), server.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_TicketNamingAnotherSource_Refuses()
    {
        // The source authenticates as source.test but claims to be another host in its ticket.
        MigrationTicket ticket = ChannelHarness.Ticket(source: "someone-else.test");
        var (_, server) = await RunAsync(SourceFactory(), DestinationFactory(), ticket);

        Assert.Contains(nameof(TicketRefusal.WrongSource), server.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_TicketForAnotherDestination_Refuses()
    {
        // The destination's certificate also carries the name in the ticket, but it answers to another identity.
        var (_, server) = await RunAsync(SourceFactory(), DestinationFactory(configure: o => o.LocalIdentity = "destination-b.test"));

        Assert.Contains(nameof(TicketRefusal.WrongDestination), server.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_ValidatorVetoes_RefusesWithItsReason()
    {
        var validator = new EpochValidator(currentEpoch: 2);
        var (client, server) = await RunAsync(SourceFactory(), DestinationFactory(configure: o => o.TicketValidator = validator));

        Assert.Equal(HandshakeFailureReason.TicketRefused, server.Reason);
        Assert.Contains("epoch 1 is not current (2)", server.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(HandshakeFailureReason.TicketRefused, client.Reason);
    }

    [Fact]
    public async Task Accept_ValidatorBusy_SourceSeesARetryableRefusal()
    {
        var validator = new BusyValidator();
        var (client, server) = await RunAsync(SourceFactory(), DestinationFactory(configure: o => o.TicketValidator = validator));

        Assert.Equal(HandshakeFailureReason.TicketRefused, server.Reason);
        Assert.Contains(nameof(TicketRefusal.Busy), server.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(HandshakeFailureReason.DestinationBusy, client.Reason);
        Assert.Contains("still rolling back", client.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accept_SlowLoris_TimesOutOnTheInjectedClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SecureChannelFactory destination = DestinationFactory(configure: o => o.TimeProvider = time);
        var pair = new DuplexPair();
        Task<SecureChannel> accept = destination.AcceptAsync(pair.Server);
        await pair.Client.Output.WriteAsync(new byte[] { 0x16, 0x03, 0x01 });

        time.Advance(TimeSpan.FromSeconds(11));
        HandshakeFailedException error = await Assert.ThrowsAsync<HandshakeFailedException>(() => accept);

        Assert.Equal(HandshakeFailureReason.Timeout, error.Reason);
    }

    [Fact]
    public async Task Accept_PlaintextPeer_RefusesAsProtocolViolation()
    {
        var pair = new DuplexPair();
        Task<SecureChannel> accept = DestinationFactory().AcceptAsync(pair.Server);
        await pair.Client.Output.WriteAsync("QEMU migration stream, unencrypted\n"u8.ToArray());

        HandshakeFailedException error = await Assert.ThrowsAsync<HandshakeFailedException>(() => accept);

        Assert.Equal(HandshakeFailureReason.ProtocolViolation, error.Reason);
    }

    [Fact]
    public async Task Accept_RandomGarbage_RefusesWithTypedError()
    {
        var random = new Random(1234);
        for (int i = 0; i < 20; i++)
        {
            var pair = new DuplexPair();
            Task<SecureChannel> accept = DestinationFactory().AcceptAsync(pair.Server);
            byte[] garbage = new byte[random.Next(1, 2048)];
            random.NextBytes(garbage);
            await pair.Client.Output.WriteAsync(garbage);
            await pair.Client.Output.CompleteAsync();

            HandshakeFailedException error = await Assert.ThrowsAsync<HandshakeFailedException>(() => accept);
            Assert.True(error.Reason is HandshakeFailureReason.ProtocolViolation or HandshakeFailureReason.Truncated or
                HandshakeFailureReason.DowngradeAttempt,
                $"garbage #{i} gave {error.Reason}");
        }
    }

    private sealed class EpochValidator(long currentEpoch) : ITicketValidator
    {
        public ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken) =>
            ValueTask.FromResult(ticket.OwnershipEpoch == currentEpoch
                ? TicketDecision.Accept
                : TicketDecision.Refuse($"The ownership epoch {ticket.OwnershipEpoch} is not current ({currentEpoch})."));
    }

    private sealed class BusyValidator : ITicketValidator
    {
        public ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TicketDecision.Busy($"VM '{ticket.VmId}' is still rolling back here."));
    }
}
