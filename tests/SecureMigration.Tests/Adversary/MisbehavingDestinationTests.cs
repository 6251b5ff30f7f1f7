using System.Net.Sockets;
using SecureMigration.Coordination;
using SecureMigration.Tests.Infrastructure;
using static SecureMigration.Tests.Adversary.AdversaryPeer;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Issue 15, "An adversarial peer": a peer with the destination's credentials misbehaves against a real source. Every case
/// ends within its timeout with its typed reason, the VM running on the source, its epoch kept, the admission lease
/// returned and no thread left spinning.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class MisbehavingDestinationTests(TestPki pki) : IClassFixture<TestPki>
{
    private const string Late = "late but in time";

    private static readonly Dictionary<string, AdversaryCase> Cases = new()
    {
        ["Ready just under the commit timeout"] = Case(async (peer, arena) =>
        {
            await arena.ElapseAsync(Arena.Commit, Arena.Commit - Arena.Tick);
            await peer.AbortAsync(Late);
        }, "the peer aborted: " + Late),
        ["Ready just over the commit timeout"] = Case(async (peer, arena) =>
        {
            await arena.ElapseAsync(Arena.Commit, Arena.Commit + Arena.Tick);
            Assert.Contains("nothing moved for 11 s", await peer.HearAbortAsync(), StringComparison.Ordinal);
        }, "nothing moved for 11 s while waiting for Ready"),
        ["Verified just under the commit timeout"] = AfterStream(async (peer, arena) =>
        {
            await arena.ElapseAsync(Arena.Commit, Arena.Commit - Arena.Tick);
            await peer.AbortAsync(Late);
        }, "the peer aborted: " + Late),
        ["Verified just over the commit timeout"] = AfterStream(async (peer, arena) =>
        {
            await arena.ElapseAsync(Arena.Commit, Arena.Commit + Arena.Tick);
            Assert.Contains("nothing moved for 11 s", await peer.HearAbortAsync(), StringComparison.Ordinal);
        }, "nothing moved for 11 s while waiting for Verified"),
        ["Committed just over the commit timeout"] = AfterStream(async (peer, arena) =>
        {
            await peer.SendFrameAsync(FrameType.Verified);
            await peer.ExpectAsync(FrameType.Commit);
            await arena.ElapseAsync(Arena.Commit, Arena.Commit + Arena.Tick);
        }, "nothing moved for 11 s while waiting for Committed"),
        ["Committed that the registry does not back"] = AfterStream(async (peer, _) =>
        {
            await peer.SendFrameAsync(FrameType.Verified);
            await peer.ExpectAsync(FrameType.Commit);
            await peer.SendFrameAsync(FrameType.Committed, new byte[8]);
            Assert.Contains("the registry shows no commit", await peer.HearAbortAsync(), StringComparison.Ordinal);
        }, "the destination acknowledged the commit; the registry shows no commit ('source.test' holds epoch 2)"),
        ["Ready cut into five records, then an abort in the stream"] = Case(async (peer, _) =>
        {
            await peer.SendAsync(Frame(FrameType.Ready), 1, 2, 3, 4);
            await peer.AbortAsync("stop");
        }, "the peer aborted: stop"),
        ["abort instead of Ready"] = Case((peer, _) => peer.AbortAsync("stop"), "the peer aborted: stop"),
        ["abort cut across three records in the stream"] = InStream(peer => peer.SendAsync(Frame(FrameType.Abort, "stop"u8), 2, 7),
            "the peer aborted: stop"),
        ["abort instead of Verified"] = AfterStream((peer, _) => peer.AbortAsync("stop"), "the peer aborted: stop"),
        ["abort instead of Committed"] = AfterStream(async (peer, _) =>
        {
            await peer.SendFrameAsync(FrameType.Verified);
            await peer.ExpectAsync(FrameType.Commit);
            await peer.AbortAsync("stop");
        }, "the peer aborted: stop"),
        ["Verified without data"] = InStream(peer => peer.SendFrameAsync(FrameType.Verified),
            "a Verified frame of 0 bytes during the stream"),
        ["Ready twice"] = InStream(peer => peer.SendFrameAsync(FrameType.Ready), "a Ready frame of 0 bytes during the stream"),
        ["Committed in the stream"] = InStream(peer => peer.SendFrameAsync(FrameType.Committed, new byte[8]),
            "a Committed frame of 8 bytes during the stream"),
        ["data instead of Ready"] = Case((peer, _) => peer.SendFrameAsync(FrameType.Data, "x"u8), "Data where Ready was due"),
        ["end of stream instead of Ready"] = Case((peer, _) => peer.SendAsync(EndOfStream([])), "EndOfStream where Ready was due"),
        ["Verified instead of Ready"] = Case((peer, _) => peer.SendFrameAsync(FrameType.Verified), "Verified where Ready was due"),
        ["Commit instead of Ready"] = Case((peer, _) => peer.SendFrameAsync(FrameType.Commit), "Commit where Ready was due"),
        ["Committed instead of Ready"] = Case((peer, _) => peer.SendFrameAsync(FrameType.Committed, new byte[8]),
            "Committed where Ready was due"),
        ["unknown type instead of Ready"] = Case((peer, _) => peer.SendFrameAsync((FrameType)99), "99 where Ready was due"),
        ["Ready over the control bound"] = Case((peer, _) => peer.SendAsync(Header(FrameType.Ready, MigrationWire.MaxControlFrame + 1)),
            "a Ready frame of 4097 bytes where Ready was due"),
        ["Ready of 4 GiB"] = Case((peer, _) => peer.SendAsync(Header(FrameType.Ready, uint.MaxValue)),
            "a Ready frame of 2147483647 bytes where Ready was due"),
        ["Ready instead of Verified"] = AfterStream((peer, _) => peer.SendFrameAsync(FrameType.Ready), "Ready where Verified was due"),
        ["Verified over the control bound"] =
            AfterStream((peer, _) => peer.SendAsync(Header(FrameType.Verified, MigrationWire.MaxControlFrame + 1)),
            "a Verified frame of 4097 bytes where Verified was due"),
        ["replayed record"] = InStream(peer => peer.ReplayLastRecordAsync(), "A record failed authentication"),
        ["close in the stream"] = InStream(peer => peer.CloseAsync(), "the peer closed the channel"),
        ["half a header, then close"] = Case(async (peer, _) =>
        {
            await peer.SendAsync(Header(FrameType.Ready, 0)[..3]);
            await peer.CloseAsync();
        }, "the channel ended inside a frame"),
        ["drop in the stream"] = InStream(peer =>
        {
            peer.Drop();
            return Task.CompletedTask;
        }, "the channel failed while sending the migration stream"),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Source_DestinationMisbehaves_EndsWithTheTypedReasonAndKeepsTheVm(string name)
    {
        AdversaryCase misbehaviour = Cases[name];
        await using Arena arena = await Arena.CreateAsync(pki);

        MigrationResult source = await arena.AgainstSourceAsync(peer => misbehaviour.Script(peer, arena));

        await AssertKeptAsync(arena, source, misbehaviour.Reason);
    }

    [Fact]
    public async Task Source_HandshakeHeldJustOverItsTimeout_EndsWithTheHandshakeFailureAndKeepsTheVm()
    {
        await using Arena arena = await Arena.CreateAsync(pki);

        MigrationResult source = await arena.AgainstSourceAsync(async (Socket accepted) =>
        {
            await arena.ElapseAsync(Arena.Handshake, Arena.Handshake + Arena.Tick);
            await accepted.ReceiveAsync(new byte[16 * 1024]);
        });

        await AssertKeptAsync(arena, source, "did not complete the handshake within the handshake timeout");
    }

    [Fact]
    public async Task Source_HandshakeHeldJustUnderItsTimeout_IsStillAnswered()
    {
        await using Arena arena = await Arena.CreateAsync(pki);

        MigrationResult source = await arena.AgainstSourceAsync(async (Socket accepted) =>
        {
            await arena.ElapseAsync(Arena.Handshake, Arena.Handshake - Arena.Tick);
            await using AdversaryPeer peer = await AcceptAsync(accepted, arena.DestinationChannels);
            await peer.AbortAsync(Late);
            await peer.DrainAsync();
        });

        await AssertKeptAsync(arena, source, "the peer aborted: " + Late);
    }

    private static async Task AssertKeptAsync(Arena arena, MigrationResult source, string reason)
    {
        Assert.True(source.Status == MigrationStatus.RolledBack, $"{source.Status}: {source.Reason}");
        Assert.Contains(reason, source.Reason ?? "", StringComparison.Ordinal);
        await arena.AssertSourceKeptTheVmAsync();
        await IdleCpu.AssertQuietAsync("after the case");
    }

    private static AdversaryCase Case(Func<AdversaryPeer, Arena, Task> script, string reason) => new(async (peer, arena) =>
    {
        await script(peer, arena);
        await peer.DrainAsync();
    }, MigrationStatus.RolledBack, reason);

    /// <summary>
    /// After its Ready, while the source streams (its hypervisor holds the stream's end), the peer does <paramref name="misbehave"/>.
    /// </summary>
    private static AdversaryCase InStream(Func<AdversaryPeer, Task> misbehave, string reason) => Case(async (peer, arena) =>
    {
        arena.SourceHypervisor.Hold = true;
        await peer.SendFrameAsync(FrameType.Ready);
        await arena.Phases.WhenReachedAsync(MigrationPhase.Transferring);
        await misbehave(peer);
    }, reason);

    /// <summary>After its Ready and the source's whole stream, the peer does <paramref name="misbehave"/>.</summary>
    private static AdversaryCase AfterStream(Func<AdversaryPeer, Arena, Task> misbehave, string reason) => Case(async (peer, arena) =>
    {
        await peer.SendFrameAsync(FrameType.Ready);
        await peer.ReceiveStreamAsync();
        await misbehave(peer, arena);
    }, reason);
}
