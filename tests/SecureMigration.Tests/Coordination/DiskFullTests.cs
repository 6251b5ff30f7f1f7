using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class DiskFullTests
{
    [RequiresTmpfsFact]
    public async Task MigrateAsync_DiskFullWhileJournaling_DoesNotGoOnAndRecoveryFinishesItOnceThereIsSpace()
    {
        using TinyFileSystem disk = TinyFileSystem.Mount(64);
        string journal = Path.Combine(disk.Path, "journal.smj");
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceJournal: journal);
        // A completed migration takes most of the journal's first page; then the disk is full.
        await JournalTestRecords.AppendSourcePhasesAsync(hosts.Source.Journal, 9, "vm-old");
        disk.Fill();

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.NotEqual(MigrationStatus.Completed, source.Status);
        Assert.Contains("could not record", source.Reason, StringComparison.Ordinal);
        Assert.NotEqual(MigrationStatus.Completed, destination?.Status);
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Equal(hosts.Source.Id, (await hosts.Registry.GetAsync(TwoHosts.VmId))!.Owner);

        disk.FreeSpace();
        await hosts.RestartBothAsync();
        Assert.Null(hosts.Source.Journal.DroppedTail);
        await hosts.Source.Coordinator.RecoverAsync();
        await hosts.Destination.Coordinator.RecoverAsync();
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }
}
