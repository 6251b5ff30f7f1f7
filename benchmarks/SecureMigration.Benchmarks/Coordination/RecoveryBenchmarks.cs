using BenchmarkDotNet.Attributes;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Testing.Simulation;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// Recovery on start over a journal of 10,000 migrations (90,000 records, the last ten migrations unfinished, with
/// no VM behind them so the hypervisor costs nothing): open and verify the journal, then <c>RecoverAsync</c>.
/// Baseline: reading the same file into memory.
/// </summary>
[MemoryDiagnoser]
public class RecoveryBenchmarks
{
    private const int Migrations = 10_000;
    private const int Unfinished = 10;
    private readonly string _directory = Directory.CreateTempSubdirectory("secmig-bench-recovery-").FullName;
    private HostKey _key = null!;
    private byte[] _pristine = null!;

    private string JournalPath => Path.Combine(_directory, "journal.smj");

    [GlobalSetup]
    public void Setup()
    {
        _key = HostKey.FromSecret(new byte[32]);
        using (MigrationJournal journal = MigrationJournal.Open(JournalPath, _key))
        {
            var batch = new List<JournalRecord>();
            for (int vm = 0; vm < Migrations; vm++)
            {
                var id = Guid.NewGuid();
                int phases = vm >= Migrations - Unfinished ? 5 : BenchmarkRecords.SourcePhases.Length;
                batch.AddRange(BenchmarkRecords.SourcePhases.Take(phases).Select(phase => BenchmarkRecords.Source(id, vm, phase)));
                if (batch.Count > 5_000)
                {
                    journal.AppendRangeAsync(batch).AsTask().GetAwaiter().GetResult();
                    batch.Clear();
                }
            }

            journal.AppendRangeAsync(batch).AsTask().GetAwaiter().GetResult();
        }

        _pristine = File.ReadAllBytes(JournalPath);
    }

    [IterationSetup]
    public void Restore()
    {
        File.WriteAllBytes(JournalPath, _pristine);
        foreach (string other in Directory.EnumerateFileSystemEntries(_directory).Where(p => p != JournalPath))
        {
            if (Directory.Exists(other))
            {
                Directory.Delete(other, recursive: true);
            }
            else
            {
                File.Delete(other);
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "read the journal file")]
    public int ReadFile() => File.ReadAllBytes(JournalPath).Length;

    [Benchmark(Description = "open + verify + RecoverAsync (10,000 migrations)")]
    public int Recover()
    {
        MigrationHost host = new MigrationHostBuilder("source.bench")
            .UseHostKey(_key)
            .UseJournal(JournalPath)
            .UseAudit(Path.Combine(_directory, "audit.log"))
            .UseOwnershipRegistry(new FileOwnershipRegistry(Path.Combine(_directory, "registry")))
            .UseDriver(new SimulatedHypervisor(Path.Combine(_directory, "vms")), disposeWithHost: true)
            .UseSnapshots(new FileSnapshotProvider(Path.Combine(_directory, "snapshots")))
            .BuildAsync().GetAwaiter().GetResult();
        int recovered = host.Coordinator.RecoverAsync().GetAwaiter().GetResult().Count;
        host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return recovered;
    }
}
