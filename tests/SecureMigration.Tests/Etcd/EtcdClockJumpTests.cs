using Microsoft.Extensions.Time.Testing;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// One host's clock jumps three hours ahead in the middle of a migration (its every timer fires at once: stall, commit,
/// ticket and backoff clocks), the other's runs on. Whatever the jump cuts short, the registry in etcd decides, and after
/// recovery exactly one runnable copy remains, on the host the registry names.
/// </summary>
public sealed class EtcdClockJumpTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    [RequiresProgramTheory("etcd")]
    [InlineData("source", MigrationPhase.Transferring)]
    [InlineData("source", MigrationPhase.SwitchingOver)]
    [InlineData("destination", MigrationPhase.Transferring)]
    [InlineData("destination", MigrationPhase.SwitchingOver)]
    public async Task AHostsClockJumpsMidMigration_OneRunnableCopyRemains_WhereTheRegistrySays(string host, MigrationPhase at)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var jumping = new CoordinatorOptions { TimeProvider = clock };
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: name => Registries.For(name),
            sourceOptions: host == "source" ? jumping : null, destinationOptions: host == "destination" ? jumping : null);
        int jumped = 0;
        var jump = new SynchronousProgress<MigrationProgress>(p =>
        {
            if (p.Phase == at && (at != MigrationPhase.Transferring || p.Bytes > 0) && Interlocked.Exchange(ref jumped, 1) == 0)
            {
                clock.Advance(TimeSpan.FromHours(3));
            }
        });

        try
        {
            await hosts.MigrateAsync(jump);
            await hosts.LastDestination;
        }
        catch (MigrationInDoubtException)
        {
            // Recovery below settles it.
        }

        Assert.Equal(1, jumped);
        await hosts.RestartBothAsync();
        await hosts.Source.Coordinator.RecoverAsync();
        await hosts.Destination.Coordinator.RecoverAsync();
        await hosts.Source.Coordinator.RecoverAsync();
        string holder = await hosts.AssertOneRunnableCopyAsync();
        OwnershipRecord record = (await Registries.For("observer.test").GetAsync(TwoHosts.VmId))!;
        Assert.Equal(holder, record.Owner);
    }
}
