using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>
/// PSK keyrings: a key per pair of hosts, so a host proves its name. Defense covered (issue 14, hole 2): a holder of
/// other keys can neither claim another host's name as a source nor pose as a destination.
/// </summary>
public sealed class PskKeyringTests
{
    private static readonly byte[] SourceDestination = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] InsiderDestination = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] InsiderSource = RandomNumberGenerator.GetBytes(32);

    private static SecureChannelFactory Host(string name, params (string Peer, byte[] Key)[] keys) =>
        new(new SecureChannelOptions { Credentials = new PskKeyringCredentials(name, keys.ToDictionary(k => k.Peer, k => k.Key)) });

    private static Task<(ChannelHarness.Outcome Client, ChannelHarness.Outcome Server)> RunAsync(SecureChannelFactory source,
        SecureChannelFactory destination,
        string ticketSource = "source.test")
    {
        var pair = new DuplexPair();
        return ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ChannelHarness.Ticket(source: ticketSource));
    }

    [Fact]
    public async Task ConnectAccept_PairKey_EachEndSeesThePeersProvenName()
    {
        var (client, server) = await RunAsync(
            Host("source.test", ("destination.test", SourceDestination), ("insider.test", InsiderSource)),
            Host("destination.test", ("source.test", SourceDestination), ("insider.test", InsiderDestination)));

        Assert.True(client.Channel is not null, $"client: {client.Error}\nserver: {server.Error}");
        Assert.Equal("destination.test", client.Channel!.Peer.Name);
        Assert.Equal("source.test", server.Channel!.Peer.Name);
        Assert.False(server.Channel.Peer.IsSharedPsk);
        Assert.True(server.Channel.Peer.IsPsk);
    }

    [Fact]
    public async Task Accept_InsiderClaimsTheSourcesName_IsRefusedAsPskMismatch()
    {
        // The insider shares a key with the destination, but offers the source's name: the destination uses the source's key.
        var (client, server) = await RunAsync(
            Host("source.test", ("destination.test", InsiderDestination)),
            Host("destination.test", ("source.test", SourceDestination), ("insider.test", InsiderDestination)));

        Assert.Equal(HandshakeFailureReason.PskMismatch, server.Reason);
        Assert.Equal(HandshakeFailureReason.PskMismatch, client.Reason);
    }

    [Fact]
    public async Task Accept_InsiderUnderItsOwnNameWithATicketNamingTheSource_IsRefusedAsWrongSource()
    {
        var (client, server) = await RunAsync(
            Host("insider.test", ("destination.test", InsiderDestination)),
            Host("destination.test", ("source.test", SourceDestination), ("insider.test", InsiderDestination)),
            ticketSource: "source.test");

        Assert.Equal(HandshakeFailureReason.TicketRefused, client.Reason);
        Assert.Null(server.Channel);
    }

    [Fact]
    public async Task Connect_InsiderPosesAsTheDestination_IsRefusedBeforeTheTicketLeaves()
    {
        // The insider shares a key with the source (for its own migrations) and answers as destination.test.
        var (client, server) = await RunAsync(
            Host("source.test", ("destination.test", SourceDestination), ("insider.test", InsiderSource)),
            Host("destination.test", ("source.test", InsiderSource)));

        Assert.Equal(HandshakeFailureReason.PskMismatch, client.Reason);
        Assert.Null(server.Channel);
    }

    [Fact]
    public async Task Connect_NoKeyForTheDestination_FailsAtOnceNamingThePeerAndTheFix()
    {
        var (client, _) = await RunAsync(Host("source.test", ("elsewhere.test", SourceDestination)), Host("destination.test",
            ("source.test", SourceDestination)));

        Assert.Equal(HandshakeFailureReason.PskMismatch, client.Reason);
        Assert.Contains("no key for 'destination.test'", client.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("secmig pki psk", client.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFile_ReadableByOthers_IsRefusedWithTheChmodToRun()
    {
        using var directory = new TempDirectory();
        string path = directory.File("host.keys");
        File.WriteAllText(path, "destination.test:" + Convert.ToHexString(SourceDestination) + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => PskKeyringCredentials.FromFile(path,
            "source.test"));

        Assert.Contains($"chmod 600 {path}", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no colon here", "not identity:hexkey")]
    [InlineData("peer:zz", "not hexadecimal")]
    [InlineData("peer:00", "at least 32")]
    public void FromFile_BadLine_IsRefusedNamingTheProblem(string line, string expected)
    {
        using var directory = new TempDirectory();
        string path = directory.File("host.keys");
        File.WriteAllText(path, "# a comment\n\n" + line + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => PskKeyringCredentials.FromFile(path,
            "source.test"));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
    }
}
