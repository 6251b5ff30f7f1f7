using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Coordination;
using SecureMigration.Etcd;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Admission shared by several orchestrators through a real etcd cluster: each orchestrator is a registry of its own
/// (its own connection and session lease), as separate processes on separate machines would be.
/// </summary>
public sealed class EtcdClusterAdmissionTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    [RequiresProgramFact("etcd")]
    public async Task Caps_AreSharedByTwoOrchestrators_AndASlotIsFreeOnceItsMigrationEnds()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 1 };
        EtcdOwnershipRegistry a = Registries.For("h1.test");
        EtcdOwnershipRegistry b = Registries.For("h3.test");

        ClusterAdmissionDecision first = await a.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options);
        ClusterAdmissionDecision second = await b.TryAdmitAsync(Request("vm2", "h3.test", "h4.test"), options);
        await first.CompleteAsync(MigrationOutcome.Succeeded);
        ClusterAdmissionDecision third = await b.TryAdmitAsync(Request("vm2", "h3.test", "h4.test"), options);

        Assert.True(first.IsAdmitted);
        Assert.Equal(AdmissionDenialReason.ClusterCapReached, second.Denial.Reason);
        Assert.True(third.IsAdmitted);
        await third.CompleteAsync(MigrationOutcome.Failed);
    }

    [RequiresProgramFact("etcd")]
    public async Task HostCaps_CountEveryOrchestratorsMigrations()
    {
        var options = new AdmissionOptions { MaxOutboundPerHost = 1, MaxInboundPerHost = 1 };
        EtcdOwnershipRegistry a = Registries.For("h1.test");
        EtcdOwnershipRegistry b = Registries.For("h1.test");
        EtcdOwnershipRegistry c = Registries.For("h4.test");

        ClusterAdmissionDecision held = await a.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options);
        ClusterAdmissionDecision outbound = await b.TryAdmitAsync(Request("vm2", "h1.test", "h3.test"), options);
        ClusterAdmissionDecision inbound = await c.TryAdmitAsync(Request("vm3", "h4.test", "h2.test"), options);

        Assert.True(held.IsAdmitted);
        Assert.Equal(AdmissionDenialReason.OutboundCapReached, outbound.Denial.Reason);
        Assert.Equal(AdmissionDenialReason.InboundCapReached, inbound.Denial.Reason);
        Assert.Contains("'h2.test' already receives its maximum of 1", inbound.Denial.Message, StringComparison.Ordinal);
        await held.CompleteAsync(MigrationOutcome.Failed);
    }

    /// <summary>
    /// The transaction that takes the slots is applied, but its answer is lost, and the client repeats it: the repeat fails on
    /// slots that hold this take's own value, so the orchestrator knows it holds them (it asked again, and was refused by its
    /// own slots, before).
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task ATakeWhoseAnswerWasLostOnce_IsRecognisedByItsRepeat()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 1 };
        int lost = 0;
        EtcdOwnershipRegistry orchestrator = Registries.For("h1.test", timeout: null, links: null, new TransactionFaultInterceptor(
            txn => IsTake(txn) && Interlocked.Exchange(ref lost, 1) == 0 ? TransactionFault.LoseAnswer : TransactionFault.None));

        ClusterAdmissionDecision decision = await orchestrator.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options);

        Assert.Equal(1, lost);
        Assert.True(decision.IsAdmitted, decision.Denial.Message);
        Assert.Equal(3, await Registries.CountKeysAsync("admission/slots/"));
        await decision.CompleteAsync(MigrationOutcome.Failed);
        Assert.Equal(0, await Registries.CountKeysAsync("admission/slots/"));
    }

    /// <summary>
    /// The take is applied but no answer comes back before the timeout, and etcd refuses the undo too: the orchestrator
    /// reports etcd unavailable, and its session lease would keep those slots as long as it runs. It undoes the take (the slots
    /// hold a value only that take wrote) before its next decision, so the cap is free again.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task ATakeWhoseAnswerNeverCame_IsUndoneBeforeTheNextDecision()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 1 };
        bool faulty = true;
        EtcdOwnershipRegistry orchestrator = Registries.For("h1.test", TimeSpan.FromSeconds(1), links: null,
            new TransactionFaultInterceptor(txn => !faulty ? TransactionFault.None
                : IsTake(txn) ? TransactionFault.LoseAnswer
                : txn.Success.Any(op => op.RequestDeleteRange is not null) ? TransactionFault.Refuse : TransactionFault.None));

        await Assert.ThrowsAsync<EtcdUnavailableException>(async () =>
            await orchestrator.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options));
        Assert.Equal(3, await Registries.CountKeysAsync("admission/slots/"));
        faulty = false;
        ClusterAdmissionDecision next = await orchestrator.TryAdmitAsync(Request("vm2", "h1.test", "h3.test"), options);

        Assert.True(next.IsAdmitted, next.Denial.Message);
        await next.CompleteAsync(MigrationOutcome.Failed);
        Assert.Equal(0, await Registries.CountKeysAsync("admission/slots/"));
    }

    /// <summary>Host names are compared as DNS compares them: another spelling of a host shares its cap.</summary>
    /// <summary>
    /// Attack by the network: a release is applied but its answer lost, another orchestrator takes the freed slot, and then
    /// the release is repeated. The repeat deletes only slots that still hold the released take's value, so the other
    /// orchestrator keeps its slot and the cap holds.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task AReleaseRepeatedAfterItsAnswerWasLost_LeavesTheSlotAnotherOrchestratorTookInBetween()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 1 };
        EtcdOwnershipRegistry other = Registries.For("h3.test");
        int releases = 0;
        ClusterAdmissionDecision? between = null;
        EtcdOwnershipRegistry orchestrator = Registries.For("h1.test", timeout: null, links: null, new TransactionFaultInterceptor(txn =>
        {
            if (!IsRelease(txn))
            {
                return TransactionFault.None;
            }

            if (Interlocked.Increment(ref releases) == 1)
            {
                return TransactionFault.LoseAnswer;
            }

            // The first release was applied: the other orchestrator takes the free slot before the repeat is sent.
            between = other.TryAdmitAsync(Request("vm2", "h3.test", "h4.test"), options).AsTask().GetAwaiter().GetResult();
            return TransactionFault.None;
        }));
        ClusterAdmissionDecision held = await orchestrator.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options);

        await held.CompleteAsync(MigrationOutcome.Failed);

        Assert.Equal(2, releases);
        Assert.True(between?.IsAdmitted, between?.Denial.Message);
        Assert.Equal(3, await Registries.CountKeysAsync("admission/slots/"));
        ClusterAdmissionDecision third = await Registries.For("h5.test").TryAdmitAsync(Request("vm3", "h5.test", "h6.test"), options);
        Assert.Equal(AdmissionDenialReason.ClusterCapReached, third.Denial.Reason);
        await between!.CompleteAsync(MigrationOutcome.Failed);
        Assert.Equal(0, await Registries.CountKeysAsync("admission/slots/"));
    }

    [RequiresProgramFact("etcd")]
    public async Task HostCaps_DoNotDependOnHowAHostNameIsSpelt()
    {
        var options = new AdmissionOptions { MaxInboundPerHost = 1 };
        EtcdOwnershipRegistry a = Registries.For("h1.test");
        EtcdOwnershipRegistry b = Registries.For("h3.test");

        ClusterAdmissionDecision held = await a.TryAdmitAsync(Request("vm1", "h1.test", "h2.test"), options);
        ClusterAdmissionDecision other = await b.TryAdmitAsync(Request("vm2", "h3.test", "H2.TEST"), options);

        Assert.True(held.IsAdmitted);
        Assert.Equal(AdmissionDenialReason.InboundCapReached, other.Denial.Reason);
        await held.CompleteAsync(MigrationOutcome.Failed);
    }

    private static bool IsRelease(Etcdserverpb.TxnRequest txn) => txn.Compare.Count == 0 &&
        txn.Success.Any(op => op.RequestDeleteRange is not null || op.RequestTxn is not null);

    private static bool IsTake(Etcdserverpb.TxnRequest txn) =>
        txn.Success.Any(op => op.RequestPut?.Key.ToStringUtf8().Contains("admission/slots/", StringComparison.Ordinal) == true);

    /// <summary>Three orchestrators ask at the same moment, round after round: the cap is never exceeded.</summary>
    [RequiresProgramFact("etcd")]
    public async Task ThreeOrchestratorsRacing_NeverExceedTheClusterCap()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 2, MaxOutboundPerHost = 10, MaxInboundPerHost = 10 };
        EtcdOwnershipRegistry[] orchestrators = [Registries.For("h0.test"), Registries.For("h1.test"), Registries.For("h2.test")];
        for (int round = 0; round < 10; round++)
        {
            ClusterAdmissionDecision[] decisions = await Task.WhenAll(orchestrators.Select((o, i) =>
                o.TryAdmitAsync(Request($"vm-{round}-{i}", $"h{i}.test", "target.test"), options).AsTask()));

            Assert.Equal(2, decisions.Count(d => d.IsAdmitted));
            Assert.All(decisions.Where(d => !d.IsAdmitted), d => Assert.Equal(AdmissionDenialReason.ClusterCapReached, d.Denial.Reason));
            foreach (ClusterAdmissionDecision decision in decisions)
            {
                await decision.CompleteAsync(MigrationOutcome.Failed);
            }
        }
    }

    /// <summary>
    /// A VM moved by one orchestrator is not moved straight back by another, whose host's clock jumped hours ahead: the
    /// dwell and ping-pong windows run on etcd's clock. The local controller, which never saw the move, admits.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task DwellAndPingPong_HoldAcrossOrchestrators_WhateverAHostsClockSays()
    {
        var options = new AdmissionOptions { MinDwellTime = TimeSpan.FromMinutes(10), PingPongWindow = TimeSpan.FromHours(1) };
        EtcdOwnershipRegistry a = Registries.For("h1.test");
        EtcdOwnershipRegistry b = Registries.For("h2.test");
        ClusterAdmissionDecision moved = await a.TryAdmitAsync(Request("vm1", "h1.test", "h2.test", MigrationTrigger.Automatic), options);
        await moved.CompleteAsync(MigrationOutcome.Succeeded);
        var jumped = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromHours(3));
        var local = new AdmissionController(options, jumped);

        AdmissionDecision localSays = local.TryAdmit(Request("vm1", "h2.test", "h3.test", MigrationTrigger.Automatic));
        ClusterAdmissionDecision dwell = await b.TryAdmitAsync(Request("vm1", "h2.test", "h3.test", MigrationTrigger.Automatic), options);
        ClusterAdmissionDecision back = await b.TryAdmitAsync(Request("vm1", "h2.test", "h1.test", MigrationTrigger.Manual), options);

        Assert.True(localSays.IsAdmitted);
        Assert.Equal(AdmissionDenialReason.DwellTime, dwell.Denial.Reason);
        Assert.InRange(dwell.Denial.RetryAfter, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.True(back.IsAdmitted, "a manual request overrides the dwell time, and ping-pong holds back automatic ones only");
        await back.CompleteAsync(MigrationOutcome.Failed);

        var noDwell = new AdmissionOptions { MinDwellTime = TimeSpan.Zero, PingPongWindow = TimeSpan.FromHours(1) };
        ClusterAdmissionDecision moved2 = await a.TryAdmitAsync(Request("vm2", "h1.test", "h2.test", MigrationTrigger.Automatic), noDwell);
        await moved2.CompleteAsync(MigrationOutcome.Succeeded);
        ClusterAdmissionDecision pingPong = await b.TryAdmitAsync(Request("vm2", "h2.test", "h1.test", MigrationTrigger.Automatic),
            noDwell);
        Assert.Equal(AdmissionDenialReason.PingPong, pingPong.Denial.Reason);
    }

    [RequiresProgramFact("etcd")]
    public async Task TheGlobalRetryBudget_CountsEveryOrchestratorsAttempts()
    {
        var options = new AdmissionOptions();
        options.GlobalRetryBudget.MinRetriesPerSecond = 0;
        options.GlobalRetryBudget.PercentCanRetry = 0.5;
        EtcdOwnershipRegistry a = Registries.For("h1.test");
        EtcdOwnershipRegistry b = Registries.For("h3.test");
        foreach (string vm in (string[])["vm1", "vm2"])
        {
            await (await a.TryAdmitAsync(Request(vm, "h1.test", "h2.test"), options)).CompleteAsync(MigrationOutcome.Failed);
        }

        ClusterAdmissionDecision retry = await b.TryAdmitAsync(Request("vm3", "h3.test", "h4.test", MigrationTrigger.Retry), options);
        await retry.CompleteAsync(MigrationOutcome.Failed);
        ClusterAdmissionDecision another = await a.TryAdmitAsync(Request("vm1", "h1.test", "h2.test", MigrationTrigger.Retry), options);

        Assert.True(retry.IsAdmitted, "two first attempts at 50 % buy one retry, whoever asks");
        Assert.Equal(AdmissionDenialReason.RetryBudgetExhausted, another.Denial.Reason);
    }

    /// <summary>The coordinator asks the cluster once its local controller admitted: a migration another orchestrator's slot
    /// keeps out is refused before anything is journaled, with the cluster's reason.</summary>
    [RequiresProgramFact("etcd")]
    public async Task MigrateAsync_WhenAnotherOrchestratorHoldsTheLastSlot_IsRefusedWithTheClustersReason()
    {
        var options = new AdmissionOptions { MaxConcurrentMigrations = 1, MinDwellTime = TimeSpan.Zero };
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host),
            sourceAdmission: new AdmissionController(options));
        ClusterAdmissionDecision elsewhere = await Registries.For("h9.test").TryAdmitAsync(Request("vm9", "h9.test", "h8.test"),
            options);

        (MigrationResult refused, _) = await hosts.MigrateAsync();
        await elsewhere.CompleteAsync(MigrationOutcome.Failed);
        (MigrationResult admitted, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Refused, refused.Status);
        Assert.Equal(AdmissionDenialReason.ClusterCapReached, refused.Denial);
        Assert.StartsWith("the cluster's admission denied it: The cluster already runs its maximum of 1", refused.Reason,
            StringComparison.Ordinal);
        Assert.True(admitted.IsCommitted, admitted.Reason);
    }


    private static MigrationRequest Request(string vm, string source, string destination,
        MigrationTrigger trigger = MigrationTrigger.Manual) => new(vm, source, destination, trigger);
}
