using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel;
using SecureMigration.Channel.Records;
using SecureMigration.Identity;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A real secure channel in memory, fed the peer's ciphertext in chunks cut at chosen bytes: the peer's records come from
/// the real sealing writer, cut into records at chosen plaintext bytes, and each chunk is delivered on its own. The
/// transport's reader runs inline, so every chunk is read and processed, up to the next wait, before the next one comes.
/// Both the transport's reads and the channel's reads count against a <see cref="SpinGuard"/>.
/// </summary>
internal sealed class ChunkedChannel : IAsyncDisposable
{
    private static readonly RecordCipherSuite Suite = RecordCipherSuite.Aes128GcmSha256;
    private static readonly byte[] PeerSecret = RandomNumberGenerator.GetBytes(Suite.HashLength);
    private static readonly byte[] OwnSecret = RandomNumberGenerator.GetBytes(Suite.HashLength);
    private readonly Pipe _feed = new(new PipeOptions(pauseWriterThreshold: 0, readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));

    private readonly Pipe _sent = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly SecureChannel _channel;

    public ChunkedChannel(int readBudget)
    {
        var guard = new SpinGuard(readBudget);
        var transport = new DuplexPair.Duplex(guard.Guard(_feed.Reader), _sent.Writer);
        _channel = Open(transport, OwnSecret, PeerSecret, isClient: false);
        Pipe = new DuplexPair.Duplex(guard.Guard(_channel.Input), _channel.Output);
    }

    /// <summary>Gets this end of the channel, its input guarded.</summary>
    public IDuplexPipe Pipe { get; }

    /// <summary>Seals <paramref name="plaintext"/> as the peer does, one record per piece between <paramref name="cuts"/>.</summary>
    public static async Task<byte[]> SealAsync(byte[] plaintext, IEnumerable<int> cuts)
    {
        var wire = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        SecureChannel peer = Open(new DuplexPair.Duplex(new Pipe().Reader, wire.Writer), PeerSecret, OwnSecret, isClient: true);
        int from = 0;
        foreach (int cut in cuts.Append(plaintext.Length))
        {
            await peer.Output.WriteAsync(plaintext.AsMemory(from, cut - from));
            from = cut;
        }

        Assert.True(wire.Reader.TryRead(out ReadResult records));
        byte[] bytes = records.Buffer.ToArray();
        await peer.DisposeAsync();
        return bytes;
    }

    /// <summary>Delivers <paramref name="ciphertext"/> in chunks cut at <paramref name="cuts"/>, each flushed on its own.</summary>
    public async Task DeliverAsync(byte[] ciphertext, IEnumerable<int> cuts)
    {
        int from = 0;
        foreach (int cut in cuts.Append(ciphertext.Length))
        {
            await _feed.Writer.WriteAsync(ciphertext.AsMemory(from, cut - from));
            from = cut;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _feed.Writer.CompleteAsync();
        await _channel.DisposeAsync();
    }

    private static SecureChannel Open(IDuplexPipe transport, byte[] writeSecret, byte[] readSecret, bool isClient) =>
        new(new RecordLayer(transport, Suite, writeSecret.ToArray(), readSecret.ToArray(), isClient),
            new PeerIdentity("peer.test", ["peer.test"], "spki"), ChannelHarness.Ticket(), [], NullLogger.Instance);
}
