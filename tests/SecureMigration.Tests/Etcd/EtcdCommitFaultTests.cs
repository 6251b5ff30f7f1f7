using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Coordinated migrations (simulated hypervisor, real channel) whose registry is a real etcd cluster that loses its
/// leader or its quorum at the destination's commit. Each ends with exactly one runnable copy, on the host the
/// registry names.
/// </summary>
public sealed class EtcdCommitFaultTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    [RequiresProgramFact("etcd")]
    public async Task TheLeaderKilledAsTheDestinationCommits_TheCommitGoesThroughTheNextLeader()
    {
        int killed = -1;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host), destinationRegistry: registry =>
            new FaultAtMoveRegistry(registry, before: async () =>
                await Fixture.Cluster.KillAsync(killed = await Fixture.Cluster.LeaderAsync())));
        try
        {
            (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

            Assert.True(killed >= 0, "the fault never ran");
            Assert.True(source.IsCommitted, source.Reason);
            Assert.True(destination!.IsCommitted, destination.Reason);
            Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
        }
        finally
        {
            await Fixture.Cluster.RestartAsync(killed);
        }
    }

    [RequiresProgramFact("etcd")]
    public async Task QuorumLostAsTheDestinationCommits_NothingRunsUntilQuorumReturns_ThenRecoveryLeavesOneCopy()
    {
        var options = new CoordinatorOptions { CommitTimeout = TimeSpan.FromSeconds(4) };
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions: options, destinationOptions: options,
            registries: host => Registries.For(host, TimeSpan.FromSeconds(2)), destinationRegistry: registry =>
            new FaultAtMoveRegistry(registry, before: async () =>
            {
                await Fixture.Cluster.KillAsync(0);
                await Fixture.Cluster.KillAsync(1);
            }));
        try
        {
            await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());
            await Assert.ThrowsAsync<MigrationInDoubtException>(() => hosts.LastDestination);

            // The source waits, paused, for the registry's word; the destination never ran its copy.
            Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
            Assert.NotEqual(VmRunState.Running, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        }
        finally
        {
            await Fixture.Cluster.RestartAsync(0);
            await Fixture.Cluster.RestartAsync(1);
        }

        await hosts.RestartBothAsync();
        await hosts.Source.Coordinator.RecoverAsync();
        await hosts.Destination.Coordinator.RecoverAsync();
        string holder = await hosts.AssertOneRunnableCopyAsync();
        OwnershipRecord record = (await Registries.For("observer.test").GetAsync(TwoHosts.VmId))!;
        Assert.Equal(holder, record.Owner);
    }

    /// <summary>
    /// A member cut off from its quorum answers nothing until the request's deadline, and etcd itself can give up on a proposal
    /// with an unknown status ("context deadline exceeded"); either attempt is repeated (the client's next attempt goes to the
    /// next member) within the operation's timeout, rather than ending the move at the first silent member.
    /// </summary>
    [RequiresProgramTheory("etcd")]
    [InlineData(TransactionFault.Refuse)]
    [InlineData(TransactionFault.LoseAnswerUnknown)]
    public async Task TryMove_AnAttemptThatTimesOut_IsRepeated_AndTheMoveGoesThrough(TransactionFault fault)
    {
        int faults = 0;
        EtcdOwnershipRegistry registry = Registries.For("h1.test", timeout: null, links: null, new TransactionFaultInterceptor(txn =>
            txn.Success.Any(op => op.RequestPut is not null) && Interlocked.Exchange(ref faults, 1) == 0 ? fault : TransactionFault.None));
        await registry.RegisterAsync("vm1", "h1.test");

        OwnershipMove move = await registry.TryMoveAsync("vm1", 1, "h1.test", "h1.test", Guid.NewGuid());

        Assert.Equal(1, faults);
        Assert.True(move.Moved);
        Assert.Equal(2, move.Current!.Epoch);
    }
}
