using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>
/// Several hosts race reads and compare-and-swaps on a few VMs' ownership records through the etcd registry while a
/// member of the cluster is killed and started again; the recorded history of each VM must be linearizable for a
/// compare-and-swap register (<see cref="CasRegisterChecker"/>). The run is random (seeded, the seed in the message).
/// </summary>
[Collection(nameof(EtcdCollection))]
public sealed class EtcdRegistryHistoryTests(EtcdClusterFixture fixture)
{
    private const int Clients = 4;
    private const int Vms = 3;
    private const int OperationsPerClient = 90;

    [RequiresProgramFact("etcd")]
    public async Task RandomRacesWithAMemberKilled_LeaveALinearizableHistory()
    {
        string prefix = EtcdClusterFixture.FreshPrefix();
        int seed = Environment.TickCount;
        var hosts = Enumerable.Range(0, Clients).Select(c => $"h{c}.test").ToArray();
        var registries = hosts.Select(h => new EtcdOwnershipRegistry(fixture.Cluster.Options(h, prefix))).ToArray();
        try
        {
            var vms = Enumerable.Range(0, Vms).Select(v => $"vm{v}").ToArray();
            var initial = new Dictionary<string, RegisterState?>();
            foreach (string vm in vms)
            {
                initial[vm] = RegisterState.Of(await registries[0].RegisterAsync(vm, hosts[0]));
            }

            var recorder = new HistoryRecorder();
            Task[] clients = [.. Enumerable.Range(0, Clients).Select(c => RunClientAsync(c, registries[c], hosts[c], vms, recorder,
                seed + c))];
            Task faults = InjectFaultAsync(recorder);
            await Task.WhenAll([.. clients, faults]);

            IReadOnlyList<(string Vm, RegisterOperation Operation)> history = recorder.History;
            int completed = history.Count(h => h.Operation.Returned is not null);
            int moved = history.Count(h => h.Operation.Moved);
            int refused = history.Count(h => h.Operation is { Move: not null, Returned: not null, Moved: false });
            Assert.True(completed >= Clients * OperationsPerClient * 3 / 4, $"only {completed} operations completed (seed {seed})");
            Assert.True(moved >= 20 && refused >= 20, $"too little contention to judge: {moved} moves, {refused} refused (seed {seed})");
            foreach (string vm in vms)
            {
                string? problem = CasRegisterChecker.Check([.. history.Where(h => h.Vm == vm).Select(h => h.Operation)], initial[vm]);
                Assert.True(problem is null, $"VM {vm} (seed {seed}): {problem}");
            }
        }
        finally
        {
            foreach (EtcdOwnershipRegistry registry in registries)
            {
                registry.Dispose();
            }
        }
    }

    private static async Task RunClientAsync(int client, EtcdOwnershipRegistry registry, string host, string[] vms,
        HistoryRecorder recorder,
        int seed)
    {
        var random = new Random(seed);
        var seen = new Dictionary<string, RegisterState>();
        for (int i = 0; i < OperationsPerClient; i++)
        {
            string vm = vms[random.Next(vms.Length)];
            if (!seen.TryGetValue(vm, out RegisterState? last) || random.Next(3) == 0)
            {
                long called = recorder.Tick();
                try
                {
                    RegisterState? read = RegisterState.Of(await registry.GetAsync(vm));
                    recorder.Add(vm, new RegisterOperation(client, called, recorder.Tick(), null, false, read));
                    seen[vm] = read!;
                }
                catch (EtcdUnavailableException)
                {
                    recorder.Add(vm, new RegisterOperation(client, called, null, null, false, null));
                }

                continue;
            }

            var move = new MoveRequest(last.Epoch, last.Owner, host, Guid.NewGuid());
            long start = recorder.Tick();
            try
            {
                OwnershipMove result = await registry.TryMoveAsync(vm, move.ExpectedEpoch, move.ExpectedOwner, host, move.MigrationId);
                RegisterState? observed = RegisterState.Of(result.Current);
                recorder.Add(vm, new RegisterOperation(client, start, recorder.Tick(), move, result.Moved, observed));
                seen[vm] = observed!;
            }
            catch (EtcdUnavailableException)
            {
                recorder.Add(vm, new RegisterOperation(client, start, null, move, false, null));
                seen.Remove(vm);
            }
        }
    }

    /// <summary>Kills a member once a third of the operations are recorded, and starts it again at two thirds.</summary>
    private async Task InjectFaultAsync(HistoryRecorder recorder)
    {
        int member = Random.Shared.Next(3);
        await recorder.WhenCountAsync(Clients * OperationsPerClient / 3);
        await fixture.Cluster.KillAsync(member);
        await recorder.WhenCountAsync(Clients * OperationsPerClient * 2 / 3);
        await fixture.Cluster.RestartAsync(member);
    }
}
