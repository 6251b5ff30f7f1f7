using SecureMigration.Audit;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Audit;

public sealed class AuditWriteBehindTests
{
    private static readonly HostKey Key = HostKey.FromSecret(System.Text.Encoding.UTF8.GetBytes("audit write-behind test key......"));

    [Fact]
    public async Task Enqueue_SinkHeld_ReturnsAtOnceAndFlushWaitsForEveryEntryInOrder()
    {
        using var dir = new TempDirectory();
        using AuditLog log = AuditLog.Open(dir.File("audit.log"), "host.test", Key);
        var held = new HeldAuditSink(log);
        held.Hold();
        var lost = new List<string>();
        var writer = new AuditWriteBehind(held, (eventName, _) => lost.Add(eventName));

        writer.Enqueue(null, "vm1", "first", null);
        writer.Enqueue(null, "vm1", "second", "detail");
        await held.FirstHeld.WaitAsync(TimeSpan.FromMinutes(1));
        Task flushed = writer.FlushAsync();
        writer.Enqueue(null, "vm1", "third", null);

        Assert.False(flushed.IsCompleted);
        held.Release();
        await writer.FlushAsync().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(flushed.IsCompleted);
        Assert.Empty(lost);
        AuditVerification verification = AuditLog.Verify(log.Path, Key);
        Assert.True(verification.IsIntact);
        Assert.Equal(["first", "second", "third"], verification.Entries.Select(e => e.Event));
    }

    [Fact]
    public async Task WriteAsync_AnEntryFails_ItIsReportedAndTheNextOnesAreStillWritten()
    {
        using var dir = new TempDirectory();
        using AuditLog log = AuditLog.Open(dir.File("audit.log"), "host.test", Key);
        var held = new HeldAuditSink(log) { Failing = "lost" };
        var lost = new List<string>();
        var writer = new AuditWriteBehind(held, (eventName, e) => lost.Add($"{eventName}: {e.Message}"));

        writer.Enqueue(null, null, "lost", null);
        await writer.WriteAsync(null, null, "kept", null);

        Assert.Equal(["lost: no space left on the audit's disk"], lost);
        Assert.Equal(["kept"], AuditLog.Verify(log.Path, Key).Entries.Select(e => e.Event));
    }
}
