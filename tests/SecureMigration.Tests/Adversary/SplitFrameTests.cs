using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Issue 15, item 1: frames and records split and merged at any byte boundary. The peer's frames are cut into records at
/// every point (and every pair of points), the records' bytes into transport chunks at every point (and every pair), and
/// each end must read every message without a read loop that spins (<see cref="SpinGuard"/>) or stops waiting.
/// </summary>
public sealed class SplitFrameTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(7);
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(10);
    private static readonly byte[] Stream = "abcd"u8.ToArray();

    /// <summary>A short stream: two data frames and the end of stream (43 bytes).</summary>
    private static readonly byte[] StreamFrames =
        [.. Frame(FrameType.Data, Stream[..3]), .. Frame(FrameType.Data, Stream[3..]), .. EndOfStream()];

    [Fact]
    public async Task ReceiveStream_FramesCutIntoRecordsAtEveryPairOfPoints_DeliversTheStream()
    {
        foreach (int[] recordCuts in CutsUpToTwo(StreamFrames.Length))
        {
            await AssertStreamArrivesAsync(await ChunkedChannel.SealAsync(StreamFrames, recordCuts), [], recordCuts.Length + 1);
        }
    }

    [Fact]
    public async Task ReceiveStream_RecordsCutAtEveryPointAndTheirBytesAtEveryPoint_DeliversTheStream()
    {
        foreach (int[] recordCuts in CutsUpToOne(StreamFrames.Length))
        {
            byte[] ciphertext = await ChunkedChannel.SealAsync(StreamFrames, recordCuts);
            foreach (int[] chunkCuts in CutsUpToOne(ciphertext.Length))
            {
                await AssertStreamArrivesAsync(ciphertext, chunkCuts, recordCuts.Length + chunkCuts.Length + 1);
            }
        }
    }

    [Fact]
    public async Task ReceiveStream_OneRecordsBytesCutAtEveryPairOfPoints_DeliversTheStream()
    {
        byte[] ciphertext = await ChunkedChannel.SealAsync(StreamFrames, []);
        foreach (int[] chunkCuts in CutsUpToTwo(ciphertext.Length))
        {
            await AssertStreamArrivesAsync(ciphertext, chunkCuts, chunkCuts.Length + 1);
        }
    }

    [Fact]
    public async Task Receive_ControlFrameCutAnywhereInRecordsAndChunks_ArrivesWhole()
    {
        byte[] verified = Frame(FrameType.Verified, []);
        foreach (int[] recordCuts in CutsUpToTwo(verified.Length))
        {
            byte[] ciphertext = await ChunkedChannel.SealAsync(verified, recordCuts);
            foreach (int[] chunkCuts in CutsUpToOne(ciphertext.Length))
            {
                await using var channel = new ChunkedChannel(Budget(recordCuts.Length + chunkCuts.Length + 1));
                using var wire = new MigrationWire(channel.Pipe, Stall, new FakeTimeProvider());
                Task<byte[]> receiving = wire.ReceiveAsync(FrameType.Verified, Stall, CancellationToken.None).AsTask();
                await channel.DeliverAsync(ciphertext, chunkCuts);

                Assert.Empty(await receiving.WaitAsync(HangGuard));
            }
        }
    }

    /// <summary>The source's watch for the peer during the stream consumes nothing; the abort it saw must still be read whole.</summary>
    [Fact]
    public async Task SendStream_PeersAbortCutAnywhereInRecordsAndChunks_EndsWithThePeersReason()
    {
        byte[] abort = Frame(FrameType.Abort, "stop"u8.ToArray());
        foreach (int[] recordCuts in CutsUpToTwo(abort.Length))
        {
            byte[] ciphertext = await ChunkedChannel.SealAsync(abort, recordCuts);
            foreach (int[] chunkCuts in CutsUpToOne(ciphertext.Length))
            {
                await using var channel = new ChunkedChannel(Budget(recordCuts.Length + chunkCuts.Length + 1));
                using var wire = new MigrationWire(channel.Pipe, Stall, new FakeTimeProvider());
                Task<long> sending = wire.SendStreamAsync(new SilentStream(), new XxHash128(), 1024, null, CancellationToken.None).AsTask();
                await channel.DeliverAsync(ciphertext, chunkCuts);

                MigrationAbortedException e = await Assert.ThrowsAsync<MigrationAbortedException>(() => sending.WaitAsync(HangGuard));
                Assert.True(e.ByPeer, e.Message);
                Assert.EndsWith("stop", e.Reason, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>The stream's end cancels the watch's read; the next read must still wait for the peer's Verified, cut anywhere.</summary>
    [Fact]
    public async Task Receive_AfterTheStreamEndedAndItsWatchWasCancelled_VerifiedCutAnywhereArrivesWhole()
    {
        byte[] verified = Frame(FrameType.Verified, []);
        foreach (int[] recordCuts in CutsUpToTwo(verified.Length))
        {
            byte[] ciphertext = await ChunkedChannel.SealAsync(verified, recordCuts);
            foreach (int[] chunkCuts in CutsUpToOne(ciphertext.Length))
            {
                await using var channel = new ChunkedChannel(Budget(recordCuts.Length + chunkCuts.Length + 2));
                using var wire = new MigrationWire(channel.Pipe, Stall, new FakeTimeProvider());
                using var source = new MemoryStream(Stream);
                Assert.Equal(Stream.Length, await wire.SendStreamAsync(source, new XxHash128(), 1024, null, CancellationToken.None));
                Task<byte[]> receiving = wire.ReceiveAsync(FrameType.Verified, Stall, CancellationToken.None).AsTask();
                await channel.DeliverAsync(ciphertext, chunkCuts);

                Assert.Empty(await receiving.WaitAsync(HangGuard));
            }
        }
    }

    private static async Task AssertStreamArrivesAsync(byte[] ciphertext, int[] chunkCuts, int pieces)
    {
        await using var channel = new ChunkedChannel(Budget(pieces));
        using var wire = new MigrationWire(channel.Pipe, Stall, new FakeTimeProvider());
        using var sink = new MemoryStream();
        Task<ReceivedStream> receiving = wire.ReceiveStreamAsync(sink, new XxHash128(), null, CancellationToken.None).AsTask();
        await channel.DeliverAsync(ciphertext, chunkCuts);

        ReceivedStream received = await receiving.WaitAsync(HangGuard);
        Assert.Equal(Stream.Length, received.Received);
        Assert.Equal(Stream.Length, received.AnnouncedLength);
        Assert.Equal(Stream, sink.ToArray());
    }

    /// <summary>A few reads per piece delivered and per frame; a loop that spins exceeds it at once.</summary>
    private static int Budget(int pieces) => (8 * pieces) + 32;

    private static IEnumerable<int[]> CutsUpToOne(int length) => Enumerable.Range(1, length - 1).Select(cut => new[] { cut }).Prepend([]);

    private static IEnumerable<int[]> CutsUpToTwo(int length) =>
        CutsUpToOne(length).Concat(Enumerable.Range(1, length - 1)
            .SelectMany(first => Enumerable.Range(first + 1, length - first - 1).Select(second => new[] { first, second })));

    private static byte[] Frame(FrameType type, byte[] payload)
    {
        byte[] frame = new byte[5 + payload.Length];
        frame[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] EndOfStream()
    {
        byte[] payload = new byte[sizeof(ulong) + MigrationWire.DigestLength];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, (ulong)Stream.Length);
        XxHash128.Hash(Stream).CopyTo(payload, sizeof(ulong));
        return Frame(FrameType.EndOfStream, payload);
    }
}
