using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

public sealed class MigrationCoordinatorTests
{
    [Fact]
    public async Task MigrateAsync_HealthyChannel_CommitsMovesTheEpochAndLeavesOneCopy()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync();

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.True(source.Bytes >= TwoHosts.VmSize);
        Assert.Equal(source.Bytes, destination.Bytes);
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
        OwnershipRecord owner = (await hosts.Registry.GetAsync(TwoHosts.VmId))!;
        Assert.Equal((2L, (Guid?)source.MigrationId), (owner.Epoch, owner.MigrationId));
        Assert.Equal(
            [MigrationPhase.Admitted, MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone, MigrationPhase.ChannelOpen,
                MigrationPhase.Transferring,
             MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned, MigrationPhase.Completed],
            hosts.Source.Journal.Records.Select(r => r.Phase));
        Assert.Equal(
            [MigrationPhase.ChannelOpen, MigrationPhase.Admitted, MigrationPhase.PreHooksDone, MigrationPhase.Transferring,
             MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned, MigrationPhase.Completed],
            hosts.Destination.Journal.Records.Select(r => r.Phase));
    }
}
