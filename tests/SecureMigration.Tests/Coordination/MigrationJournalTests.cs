using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class MigrationJournalTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly HostKey _key = HostKey.FromSecret(new byte[32]);

    private string JournalPath => _dir.File("journal.smj");

    public void Dispose()
    {
        _key.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task AppendAsync_ThenReopen_ReturnsTheSameRecordsInOrder()
    {
        Guid first;
        Guid second;
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            first = await JournalTestRecords.AppendSourcePhasesAsync(journal, 9);
            second = await JournalTestRecords.AppendSourcePhasesAsync(journal, 3, "vm-2");
        }

        using MigrationJournal reopened = MigrationJournal.Open(JournalPath, _key);
        Assert.Null(reopened.DroppedTail);
        Assert.Equal(12, reopened.Records.Count);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), reopened.Records.Select(r => r.Sequence));
        Assert.Equal(MigrationPhase.Completed, reopened.Latest(first)!.Phase);
        Assert.Equal(MigrationPhase.PreHooksDone, reopened.Latest(second)!.Phase);
        Assert.Equal("vm-2", reopened.Latest(second)!.VmId);
    }

    [Fact]
    public async Task AppendAsync_IllegalTransition_ThrowsAndWritesNothing()
    {
        using MigrationJournal journal = MigrationJournal.Open(JournalPath, _key);
        Guid id = await JournalTestRecords.AppendSourcePhasesAsync(journal, 2);
        long length = new FileInfo(JournalPath).Length;

        var skip = Assert.Throws<IllegalPhaseTransitionException>(() => journal.AppendAsync(JournalTestRecords.Source(id,
            MigrationPhase.Committed)).AsTask().GetAwaiter().GetResult());
        var start = Assert.Throws<IllegalPhaseTransitionException>(() => journal.AppendAsync(JournalTestRecords.Source(Guid.NewGuid(),
            MigrationPhase.Transferring)).AsTask().GetAwaiter().GetResult());

        Assert.Equal(MigrationPhase.Snapshotted, skip.From);
        Assert.Null(start.From);
        Assert.Equal(length, new FileInfo(JournalPath).Length);
    }

    [Fact]
    public async Task Open_TornLastRecord_DropsItReportsItAndAppendsAfterTheLastGoodOne()
    {
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 4);
        }

        long full = new FileInfo(JournalPath).Length;
        using (FileStream file = File.OpenWrite(JournalPath))
        {
            file.SetLength(full - 10);
        }

        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            Assert.NotNull(journal.DroppedTail);
            Assert.Contains("cut short", journal.DroppedTail!.Problem, StringComparison.Ordinal);
            Assert.Equal(3, journal.Records.Count);
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1, "vm-2");
        }

        using MigrationJournal reopened = MigrationJournal.Open(JournalPath, _key);
        Assert.Null(reopened.DroppedTail);
        Assert.Equal(4, reopened.Records.Count);
    }

    [Fact]
    public async Task Open_EditedRecordBeforeTheTail_IsRefused()
    {
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 5);
        }

        byte[] bytes = File.ReadAllBytes(JournalPath);
        string text = System.Text.Encoding.Latin1.GetString(bytes);
        int at = text.IndexOf("\"Epoch\":7", StringComparison.Ordinal);
        bytes[at + 8] = (byte)'8';
        File.WriteAllBytes(JournalPath, bytes);

        var refused = Assert.Throws<JournalCorruptedException>(() => MigrationJournal.Open(JournalPath, _key));
        Assert.Contains("authentication code", refused.Problem, StringComparison.Ordinal);
        Assert.Throws<JournalCorruptedException>(() => MigrationJournal.Read(JournalPath, _key));
    }

    [Fact]
    public async Task Open_AnotherHostKey_IsRefused()
    {
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1);
        }

        byte[] other = new byte[32];
        other[0] = 1;
        using var otherKey = HostKey.FromSecret(other);

        var refused = Assert.Throws<JournalCorruptedException>(() => MigrationJournal.Open(JournalPath, otherKey));
        Assert.Contains("host key", refused.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AFileThatIsNotAJournal_IsRefusedAndLeftAsItWas()
    {
        File.WriteAllText(JournalPath, "not a journal at all, but somebody's notes that must not be overwritten");

        Assert.Throws<JournalCorruptedException>(() => MigrationJournal.Open(JournalPath, _key));
        Assert.StartsWith("not a journal", File.ReadAllText(JournalPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_RemovedRecordInTheMiddle_IsRefused()
    {
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1, "vm-1");
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1, "vm-2");
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1, "vm-3");
            await JournalTestRecords.AppendSourcePhasesAsync(journal, 1, "vm-4");
        }

        // Cut the second record out: its neighbours are authentic, but the chain between them is not.
        byte[] bytes = File.ReadAllBytes(JournalPath);
        int first = 56 + 4 + BitConverter.ToInt32(bytes, 56) + 32;
        int second = 4 + BitConverter.ToInt32(bytes, first) + 32;
        File.WriteAllBytes(JournalPath, [.. bytes.Take(first), .. bytes.Skip(first + second)]);

        Assert.Throws<JournalCorruptedException>(() => MigrationJournal.Open(JournalPath, _key));
    }

    [Fact]
    public async Task AppendRangeAsync_OneIllegalRecord_WritesNoneOfThem()
    {
        using MigrationJournal journal = MigrationJournal.Open(JournalPath, _key);
        var id = Guid.NewGuid();
        long length = new FileInfo(JournalPath).Length;

        Assert.Throws<IllegalPhaseTransitionException>(() => journal.AppendRangeAsync(
            [JournalTestRecords.Source(id, MigrationPhase.Admitted), JournalTestRecords.Source(id, MigrationPhase.Snapshotted),
                JournalTestRecords.Source(id, MigrationPhase.Completed)])
            .AsTask().GetAwaiter().GetResult());
        IReadOnlyList<JournalRecord> written = await journal.AppendRangeAsync(
            [JournalTestRecords.Source(id, MigrationPhase.Admitted), JournalTestRecords.Source(id, MigrationPhase.Snapshotted)]);

        Assert.True(new FileInfo(JournalPath).Length > length);
        Assert.Equal([1L, 2L], written.Select(r => r.Sequence));
        using MigrationJournal reopened = MigrationJournal.Open(_dir.File("journal.smj"), _key);
        Assert.Equal(2, reopened.Records.Count);
    }
}
