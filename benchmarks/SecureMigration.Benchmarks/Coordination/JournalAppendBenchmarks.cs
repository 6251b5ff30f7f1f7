using BenchmarkDotNet.Attributes;
using SecureMigration.Coordination.Journal;
using SecureMigration.Identity;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// One durable journal append (encode, HMAC chain, write, fsync) against the same number of bytes appended and
/// fsynced with a plain <see cref="FileStream"/>: the baseline is what durability costs on this disk at all.
/// </summary>
[MemoryDiagnoser]
public class JournalAppendBenchmarks
{
    private readonly string _directory = Directory.CreateTempSubdirectory("secmig-bench-journal-").FullName;
    private HostKey _key = null!;
    private MigrationJournal _journal = null!;
    private FileStream _plain = null!;
    private byte[] _plainRecord = null!;
    private Guid _migration;
    private int _phase;
    private int _vm;

    [GlobalSetup]
    public void Setup()
    {
        _key = HostKey.FromSecret(new byte[32]);
        _journal = MigrationJournal.Open(Path.Combine(_directory, "journal.smj"), _key);
        _plain = new FileStream(Path.Combine(_directory, "plain.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        _plainRecord = new byte[4 + 300 + 32];
        _migration = Guid.NewGuid();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _journal.Dispose();
        _plain.Dispose();
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "plain append + fsync (336 B)")]
    public void PlainAppend()
    {
        _plain.Write(_plainRecord);
        _plain.Flush(flushToDisk: true);
    }

    [Benchmark(Description = "journal append (authenticated, fsync)")]
    public JournalRecord JournalAppend()
    {
        if (_phase == BenchmarkRecords.SourcePhases.Length)
        {
            _phase = 0;
            _migration = Guid.NewGuid();
            _vm++;
        }

        return _journal.AppendAsync(BenchmarkRecords.Source(_migration, _vm, BenchmarkRecords.SourcePhases[_phase++])).AsTask().GetAwaiter()
            .GetResult();
    }
}
