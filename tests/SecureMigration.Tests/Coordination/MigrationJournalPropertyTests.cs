using CsCheck;
using SecureMigration.Coordination.Journal;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>Whatever happens to the bytes of a journal, what it returns is exactly a prefix of what was written.</summary>
public sealed class MigrationJournalPropertyTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly HostKey _key = HostKey.FromSecret(new byte[32]);
    private readonly byte[] _pristine;
    private readonly IReadOnlyList<JournalRecord> _written;

    public MigrationJournalPropertyTests()
    {
        string path = _dir.File("pristine.smj");
        using (MigrationJournal journal = MigrationJournal.Open(path, _key))
        {
            JournalTestRecords.AppendSourcePhasesAsync(journal, 9).GetAwaiter().GetResult();
            JournalTestRecords.AppendSourcePhasesAsync(journal, 4, "vm-2").GetAwaiter().GetResult();
            _written = journal.Records;
        }

        _pristine = File.ReadAllBytes(path);
    }

    public void Dispose()
    {
        _key.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void Open_AnyFlippedByte_EitherRefusesOrReturnsAPrefixWithTheTailReported()
    {
        Gen.Select(Gen.Int[0, _pristine.Length - 1], Gen.Byte[1, 255]).Sample((position, mask) =>
        {
            byte[] damaged = (byte[])_pristine.Clone();
            damaged[position] ^= mask;
            string path = _dir.File($"flip-{Guid.NewGuid():N}.smj");
            File.WriteAllBytes(path, damaged);
            try
            {
                using MigrationJournal journal = MigrationJournal.Open(path, _key);
                Assert.NotNull(journal.DroppedTail);
                AssertPrefix(journal.Records);
                Assert.True(journal.Records.Count < _written.Count);
            }
            catch (JournalCorruptedException)
            {
                // Refused: nothing was trusted.
            }
        }, iter: 300);
    }

    [Fact]
    public void Open_AnyTruncation_ReturnsAPrefixAndNeverRefuses()
    {
        Gen.Int[56, _pristine.Length].Sample(length =>
        {
            string path = _dir.File($"cut-{Guid.NewGuid():N}.smj");
            File.WriteAllBytes(path, _pristine.AsSpan(0, length).ToArray());
            using MigrationJournal journal = MigrationJournal.Open(path, _key);
            AssertPrefix(journal.Records);
            Assert.Equal(length == _pristine.Length, journal.Records.Count == _written.Count);
        }, iter: 200);
    }

    private void AssertPrefix(IReadOnlyList<JournalRecord> records)
    {
        Assert.True(records.Count <= _written.Count);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.Equal(_written[i], records[i]);
        }
    }
}
