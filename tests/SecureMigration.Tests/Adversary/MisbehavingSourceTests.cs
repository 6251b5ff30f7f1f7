using SecureMigration.Coordination;
using SecureMigration.Tests.Infrastructure;
using static SecureMigration.Tests.Adversary.AdversaryPeer;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Issue 15, "An adversarial peer": a peer with the source's credentials and a valid ticket misbehaves against a real
/// destination. Every case ends within its timeout with its typed reason; the VM runs on the destination only after a real
/// commit and no copy is left otherwise; the admission lease is returned; and no thread is left spinning.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class MisbehavingSourceTests(TestPki pki) : IClassFixture<TestPki>
{
    private const string Late = "late but in time";
    private const int FrameBytes = 4096;

    private static readonly Dictionary<string, AdversaryCase> Cases = new()
    {
        ["frames and records aligned"] = Completes(0),
        ["every header split after byte 1, records merging neighbours"] = Completes(1),
        ["every header split after byte 2, records merging neighbours"] = Completes(2),
        ["every header split after byte 3, records merging neighbours"] = Completes(3),
        ["every header split after byte 4, records merging neighbours"] = Completes(4),
        ["commit just under the commit timeout"] = new(async (peer, arena) =>
        {
            await SendWholeStreamAsync(peer, arena);
            await arena.ElapseAsync(Arena.Commit, Arena.Commit - Arena.Tick);
            await CommitAsync(peer);
        }, MigrationStatus.Completed, ""),
        ["commit just over the commit timeout"] = RollsBack(async (peer, arena) =>
        {
            await SendWholeStreamAsync(peer, arena);
            await arena.ElapseAsync(Arena.Commit, Arena.Commit + Arena.Tick);
            Assert.Contains("nothing moved for 11 s", await peer.HearAbortAsync(), StringComparison.Ordinal);
        }, "nothing moved for 11 s while waiting for Commit"),
        ["first frame just under the stall timeout"] = RollsBack(async (peer, arena) =>
        {
            await StallAsync(peer, arena, Arena.Stall - Arena.Tick);
            await peer.AbortAsync(Late);
        }, "the peer aborted: " + Late),
        ["first frame just over the stall timeout"] = RollsBack(async (peer, arena) =>
        {
            await StallAsync(peer, arena, Arena.Stall + Arena.Tick);
            Assert.Contains("nothing moved for 7 s", await peer.HearAbortAsync(), StringComparison.Ordinal);
        }, "nothing moved for 7 s while receiving the migration stream"),
        ["half a header, then just over the stall timeout"] = RollsBack(async (peer, arena) =>
        {
            await peer.ExpectAsync(FrameType.Ready);
            await peer.SendAsync(Header(FrameType.Data, 10)[..3]);
            await arena.Phases.WhenReachedAsync(MigrationPhase.Transferring);
            await arena.ElapseAsync(Arena.Stall, Arena.Stall + Arena.Tick);
        }, "nothing moved for 7 s while receiving the migration stream"),
        ["abort in the stream"] = InStream(peer => peer.AbortAsync("stop"), "the peer aborted: stop"),
        ["abort cut across three records"] = InStream(peer => peer.SendAsync(Frame(FrameType.Abort, "stop"u8), 2, 7),
            "the peer aborted: stop"),
        ["abort instead of the commit"] = AfterVerified(peer => peer.AbortAsync("stop"), "the peer aborted: stop"),
        ["Ready in the stream"] = InStream(peer => peer.SendFrameAsync(FrameType.Ready), "a Ready frame of 0 bytes during the stream"),
        ["Verified in the stream"] = InStream(peer => peer.SendFrameAsync(FrameType.Verified),
            "a Verified frame of 0 bytes during the stream"),
        ["Commit in the stream"] = InStream(peer => peer.SendFrameAsync(FrameType.Commit), "a Commit frame of 0 bytes during the stream"),
        ["Committed in the stream"] = InStream(peer => peer.SendFrameAsync(FrameType.Committed, new byte[8]),
            "a Committed frame of 8 bytes during the stream"),
        ["unknown type 0 in the stream"] = InStream(peer => peer.SendFrameAsync(0), "a 0 frame of 0 bytes during the stream"),
        ["unknown type 255 in the stream"] = InStream(peer => peer.SendFrameAsync((FrameType)255, "x"u8),
            "a 255 frame of 1 bytes during the stream"),
        ["data frame of 0 bytes"] = InStream(peer => peer.SendFrameAsync(FrameType.Data), "a Data frame of 0 bytes during the stream"),
        ["data frame over the bound"] = InStream(peer => peer.SendAsync(Header(FrameType.Data, MigrationWire.MaxDataFrame + 1)),
            "a Data frame of 1048577 bytes during the stream"),
        ["data frame of 4 GiB"] = InStream(peer => peer.SendAsync(Header(FrameType.Data, uint.MaxValue)),
            "a Data frame of 2147483647 bytes during the stream"),
        ["end of stream one byte short"] = InStream(peer => peer.SendFrameAsync(FrameType.EndOfStream, new byte[23]),
            "EndOfStream frame of 23 bytes during the stream"),
        ["end of stream one byte long"] = InStream(peer => peer.SendFrameAsync(FrameType.EndOfStream, new byte[25]),
            "EndOfStream frame of 25 bytes during the stream"),
        ["abort over the control bound"] = InStream(peer => peer.SendAsync(Header(FrameType.Abort, MigrationWire.MaxControlFrame + 1)),
            "a Abort frame of 4097 bytes during the stream"),
        ["end of stream without any data"] = RollsBack(async (peer, _) =>
        {
            await peer.ExpectAsync(FrameType.Ready);
            await peer.SendAsync(EndOfStream([]));
        }, "The incoming stream ended before its end marker"),
        ["end of stream with another stream's digest"] = InStream(peer => peer.SendAsync([.. Frame(FrameType.Data,
            "abc"u8), .. EndOfStream("abd"u8)]),
            "the stream's digest does not match"),
        ["end of stream repeated instead of the commit"] = AfterVerified(peer => peer.SendAsync(EndOfStream([])),
            "EndOfStream where Commit was due"),
        ["data instead of the commit"] = AfterVerified(peer => peer.SendFrameAsync(FrameType.Data, "x"u8), "Data where Commit was due"),
        ["Verified instead of the commit"] = AfterVerified(peer => peer.SendFrameAsync(FrameType.Verified),
            "Verified where Commit was due"),
        ["commit over the control bound"] =
            AfterVerified(peer => peer.SendAsync(Header(FrameType.Commit, MigrationWire.MaxControlFrame + 1)),
            "a Commit frame of 4097 bytes where Commit was due"),
        ["close without the end of stream"] = InStream(peer => peer.CloseAsync(), "the peer closed the channel"),
        ["close inside a frame"] = InStream(async peer =>
        {
            await peer.SendAsync(Header(FrameType.Data, 10)[..3]);
            await peer.CloseAsync();
        }, "the channel ended inside a frame"),
        ["drop without the end of stream"] = InStream(peer =>
        {
            peer.Drop();
            return Task.CompletedTask;
        }, "the channel failed while receiving the migration stream"),
        ["replayed record"] = InStream(async peer =>
        {
            await peer.SendFrameAsync(FrameType.Data, "abc"u8);
            await peer.ReplayLastRecordAsync();
        }, "A record failed authentication"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Destination_SourceMisbehaves_EndsWithTheTypedReasonAndRunsTheVmOnlyAfterACommit(string name)
    {
        AdversaryCase misbehaviour = Cases[name];
        await using Arena arena = await Arena.CreateAsync(pki);

        MigrationResult destination = await arena.AgainstDestinationAsync(peer => misbehaviour.Script(peer, arena));

        Assert.True(misbehaviour.Status == destination.Status, $"{destination.Status}: {destination.Reason}");
        Assert.Contains(misbehaviour.Reason, destination.Reason ?? "", StringComparison.Ordinal);
        await arena.AssertDestinationRunsOnlyAfterACommitAsync(committed: misbehaviour.Status == MigrationStatus.Completed);
        await IdleCpu.AssertQuietAsync("after the case");
    }

    private static AdversaryCase Completes(int headerCut) => new(async (peer, arena) =>
    {
        await peer.ExpectAsync(FrameType.Ready);
        await peer.SendStreamAsync(await arena.Source.Driver.StartOutgoingAsync(Arena.VmId), FrameBytes, headerCut);
        await peer.ExpectAsync(FrameType.Verified);
        await CommitAsync(peer);
    }, MigrationStatus.Completed, "");

    private static AdversaryCase RollsBack(Func<AdversaryPeer, Arena, Task> script, string reason) => new(async (peer, arena) =>
    {
        await script(peer, arena);
        await peer.DrainAsync();
    }, MigrationStatus.RolledBack, reason);

    /// <summary>After the destination's Ready and one data frame, the peer does <paramref name="misbehave"/>.</summary>
    private static AdversaryCase InStream(Func<AdversaryPeer, Task> misbehave, string reason) => RollsBack(async (peer, _) =>
    {
        await peer.ExpectAsync(FrameType.Ready);
        await peer.SendFrameAsync(FrameType.Data, "abc"u8);
        await misbehave(peer);
    }, reason);

    /// <summary>After a whole, valid stream and the destination's Verified, the peer does <paramref name="misbehave"/>.</summary>
    private static AdversaryCase AfterVerified(Func<AdversaryPeer, Task> misbehave, string reason) => RollsBack(async (peer, arena) =>
    {
        await SendWholeStreamAsync(peer, arena);
        await misbehave(peer);
    }, reason);

    private static async Task SendWholeStreamAsync(AdversaryPeer peer, Arena arena)
    {
        await peer.ExpectAsync(FrameType.Ready);
        await peer.SendStreamAsync(await arena.Source.Driver.StartOutgoingAsync(Arena.VmId), FrameBytes, 0);
        await peer.ExpectAsync(FrameType.Verified);
    }

    private static async Task StallAsync(AdversaryPeer peer, Arena arena, TimeSpan by)
    {
        await peer.ExpectAsync(FrameType.Ready);
        await arena.Phases.WhenReachedAsync(MigrationPhase.Transferring);
        await arena.ElapseAsync(Arena.Stall, by);
    }

    private static async Task CommitAsync(AdversaryPeer peer)
    {
        await peer.SendFrameAsync(FrameType.Commit);
        await peer.ExpectAsync(FrameType.Committed);
        await peer.DrainAsync();
    }
}
