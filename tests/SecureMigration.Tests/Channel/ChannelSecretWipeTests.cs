using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tls;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

/// <summary>
/// The secrets behind a channel are zeroed in memory once nothing needs them any more. Each test looks at the very
/// buffers that held them, so it fails if the wipe is removed.
/// </summary>
public sealed class ChannelSecretWipeTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task DisposeAsync_ZeroesBothTrafficSecretsOfTheRecordLayer()
    {
        RecordCipherSuite suite = RecordCipherSuite.Aes128GcmSha256;
        // The record layer keeps the arrays it is given (it does not copy them), so these are the channel's own secrets.
        byte[] writeSecret = RandomNumberGenerator.GetBytes(suite.HashLength);
        byte[] readSecret = RandomNumberGenerator.GetBytes(suite.HashLength);
        var channel = new SecureChannel(new RecordLayer(new DuplexPair().Client, suite, writeSecret, readSecret, isClient: true),
            new PeerIdentity("peer.test", ["peer.test"], "spki"), ChannelHarness.Ticket(), [], NullLogger.Instance);
        await channel.Output.WriteAsync("sealed under the write secret"u8.ToArray());
        Assert.False(IsZeroed(writeSecret), "the secret was wiped while the channel was still open");
        Assert.False(IsZeroed(readSecret), "the secret was wiped while the channel was still open");

        await channel.DisposeAsync();

        Assert.True(IsZeroed(writeSecret), "the write traffic secret survived DisposeAsync");
        Assert.True(IsZeroed(readSecret), "the read traffic secret survived DisposeAsync");
    }

    [Fact]
    public async Task ConnectAccept_Established_HasZeroedTheExporterKeyAndTheHandshakesTrafficSecretsOnBothEnds()
    {
        var states = new ConcurrentQueue<HandshakeState>();
        var source = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Source) })
        {
            HandshakeStateCreated = states.Enqueue,
        };
        var destination = new SecureChannelFactory(new SecureChannelOptions { Credentials = pki.Credentials(pki.Destination) })
        {
            HandshakeStateCreated = states.Enqueue,
        };
        var pair = new DuplexPair();

        var (client, server) = await ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ChannelHarness.Ticket());

        Assert.True(client.Channel is not null && server.Channel is not null, $"client: {client.Error}\nserver: {server.Error}");
        // Checked before the channels are disposed: the record layer works on its own copies, so these go at once.
        Assert.Equal(2, states.Count);
        foreach (HandshakeState state in states)
        {
            AssertWiped(state.BindingKey, "the exporter (ticket binding) key");
            AssertWiped(state.ClientTrafficSecret, "the client traffic secret");
            AssertWiped(state.ServerTrafficSecret, "the server traffic secret");
        }

        await client.Channel!.DisposeAsync();
        await server.Channel!.DisposeAsync();
    }

    private static void AssertWiped(byte[]? secret, string what)
    {
        Assert.NotNull(secret);
        Assert.True(secret.Length > 0, $"the handshake never held {what}");
        Assert.True(IsZeroed(secret), $"{what} survived the handshake");
    }

    private static bool IsZeroed(ReadOnlySpan<byte> secret) => !secret.ContainsAnyExcept((byte)0);
}
