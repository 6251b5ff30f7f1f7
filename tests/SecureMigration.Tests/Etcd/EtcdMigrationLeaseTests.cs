using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Leases on migrations in flight, on a real etcd cluster: one migration of a VM at a time across every orchestrator,
/// told who holds it, and free again once it ends.
/// </summary>
public sealed class EtcdMigrationLeaseTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    [RequiresProgramFact("etcd")]
    public async Task Acquire_WhileAnotherMigrationHoldsTheVm_NamesIt_AndTheVmIsFreeOnceItEnds()
    {
        EtcdOwnershipRegistry first = Registries.For("source.test");
        EtcdOwnershipRegistry second = Registries.For("source.test");
        InFlightMigration running = Migration("vm1", "destination-a.test");

        MigrationLease held = await first.AcquireAsync(running);
        MigrationLease refused = await second.AcquireAsync(Migration("vm1", "destination-b.test"));
        IReadOnlyList<InFlightMigration> listed = await second.ListInFlightAsync();
        await held.DisposeAsync();
        IReadOnlyList<InFlightMigration> after = await second.ListInFlightAsync();
        await using MigrationLease later = await second.AcquireAsync(Migration("vm1", "destination-b.test"));

        Assert.True(held.IsHeld);
        Assert.False(refused.IsHeld);
        Assert.Equal(running, refused.Holder);
        Assert.Equal(running, Assert.Single(listed));
        Assert.Empty(after);
        Assert.True(later.IsHeld);
    }

    /// <summary>The lease's transaction is applied and its answer lost; the repeat finds the key the lease it just granted holds:
    /// the migration holds it (it was refused by itself, and the key deleted with the revoked lease, before).</summary>
    [RequiresProgramFact("etcd")]
    public async Task Acquire_WhoseAnswerWasLostOnce_HoldsTheLeaseItTook()
    {
        int lost = 0;
        EtcdOwnershipRegistry registry = Registries.For("source.test", timeout: null, links: null, new TransactionFaultInterceptor(
            txn => txn.Success.Any(op => op.RequestPut?.Key.ToStringUtf8().Contains("/migrations/", StringComparison.Ordinal) == true) &&
                Interlocked.Exchange(ref lost, 1) == 0 ? TransactionFault.LoseAnswer : TransactionFault.None));

        await using MigrationLease lease = await registry.AcquireAsync(Migration("vm1", "destination-a.test"));

        Assert.Equal(1, lost);
        Assert.True(lease.IsHeld, lease.Holder.ToString());
        Assert.Single(await Registries.For("observer.test").ListInFlightAsync());
    }

    [RequiresProgramFact("etcd")]
    public async Task Acquire_RacedByTwoOrchestrators_ExactlyOneHoldsIt()
    {
        EtcdOwnershipRegistry a = Registries.For("source.test");
        EtcdOwnershipRegistry b = Registries.For("source.test");
        for (int round = 0; round < 20; round++)
        {
            string vm = $"vm-race-{round}";
            MigrationLease[] leases = await Task.WhenAll(a.AcquireAsync(Migration(vm, "a.test")).AsTask(),
                b.AcquireAsync(Migration(vm, "b.test")).AsTask());

            Assert.Single(leases, lease => lease.IsHeld);
            Assert.All(leases, lease => Assert.Equal(leases.Single(l => l.IsHeld).Holder, lease.Holder));
            foreach (MigrationLease lease in leases)
            {
                await lease.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Another orchestrator of the source host (another process, its own journal) migrates the VM: this one is refused
    /// before admission, the journal or the hypervisor is touched, and told which migration holds the VM.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task MigrateAsync_WhileAnotherOrchestratorMigratesTheVm_IsRefusedBeforeAnythingIsTouched()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host));
        InFlightMigration other = Migration(TwoHosts.VmId, "elsewhere.test");
        await using MigrationLease held = await Registries.For("source.test").AcquireAsync(other);

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Refused, source.Status);
        Assert.Contains($"migration {other.MigrationId} from 'source.test' to 'elsewhere.test'", source.Reason, StringComparison.Ordinal);
        Assert.Empty(hosts.Source.Journal.Records);
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
    }


    private static InFlightMigration Migration(string vm, string destination) =>
        new(Guid.NewGuid(), vm, "source.test", destination, DateTimeOffset.UtcNow);
}
