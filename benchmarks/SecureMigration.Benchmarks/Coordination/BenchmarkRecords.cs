using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>Journal records shaped like a real source migration's.</summary>
internal static class BenchmarkRecords
{
    public static readonly MigrationPhase[] SourcePhases =
    [
        MigrationPhase.Admitted, MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone, MigrationPhase.ChannelOpen,
            MigrationPhase.Transferring,
        MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned, MigrationPhase.Completed,
    ];

    public static JournalRecord Source(Guid migrationId, int vm, MigrationPhase phase) => new()
    {
        MigrationId = migrationId,
        Role = MigrationRole.Source,
        Phase = phase,
        VmId = $"vm-{vm}",
        SourceHost = "source.bench",
        DestinationHost = "destination.bench",
        Epoch = 1,
        Snapshot = phase >= MigrationPhase.Snapshotted ? $"/var/lib/secmig/snapshots/{migrationId:N}" : null,
        Reason = phase == MigrationPhase.SwitchingOver ? "SHA-256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" : null,
    };
}
