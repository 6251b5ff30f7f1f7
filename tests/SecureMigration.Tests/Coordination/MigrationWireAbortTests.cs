using System.IO.Pipelines;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// The abort is a courtesy: on a channel that takes nothing (a stalled peer or path), it gives up after
/// <see cref="MigrationWire.AbortPatience"/>, so a rollback, or Ctrl-C, never waits out the whole stall bound.
/// </summary>
public sealed class MigrationWireAbortTests
{
    [Fact]
    public async Task TrySendAbortAsync_ChannelTakesNothing_GivesUpAfterTheAbortPatienceNotTheStallBound()
    {
        var clock = new FakeTimeProvider();
        // A peer that reads nothing: the writer pauses once 64 bytes wait.
        var pair = new DuplexPair(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32, useSynchronizationContext: false));
        using var wire = new MigrationWire(pair.Client, TimeSpan.FromSeconds(30), clock);

        Task abort = wire.TrySendAbortAsync(new string('x', 500)).AsTask();
        Assert.False(abort.IsCompleted, "the abort must be waiting for the peer to read");
        clock.Advance(MigrationWire.AbortPatience);

        await abort.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
