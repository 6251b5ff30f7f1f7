using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>Journal records for tests: a source migration walking its phases.</summary>
internal static class JournalTestRecords
{
    public static readonly MigrationPhase[] SourcePhases =
    [
        MigrationPhase.Admitted, MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone, MigrationPhase.ChannelOpen,
        MigrationPhase.Transferring, MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned,
            MigrationPhase.Completed,
    ];

    public static JournalRecord Source(Guid id, MigrationPhase phase, string vm = "vm-1") => new()
    {
        MigrationId = id,
        Role = MigrationRole.Source,
        Phase = phase,
        VmId = vm,
        SourceHost = "host-a",
        DestinationHost = "host-b",
        Epoch = 7,
    };

    public static async Task<Guid> AppendSourcePhasesAsync(MigrationJournal journal, int count, string vm = "vm-1")
    {
        var id = Guid.NewGuid();
        foreach (MigrationPhase phase in SourcePhases.Take(count))
        {
            await journal.AppendAsync(Source(id, phase, vm));
        }

        return id;
    }
}
