using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;

namespace SecureMigration.Tests.Admission;

public sealed class AdmissionControllerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));

    private AdmissionController Controller(Action<AdmissionOptions>? configure = null)
    {
        var options = new AdmissionOptions();
        configure?.Invoke(options);
        return new AdmissionController(options, _time, new Random(7));
    }

    private static MigrationRequest Request(string vm, string from = "a", string to = "b",
        MigrationTrigger trigger = MigrationTrigger.Manual) =>
        new(vm, from, to, trigger);

    [Fact]
    public void TryAdmit_ThirdOutboundFromOneHost_IsDeniedUntilOneEnds()
    {
        AdmissionController admission = Controller();
        AdmissionDecision first = admission.TryAdmit(Request("vm-1", "a", "b"));
        admission.TryAdmit(Request("vm-2", "a", "c"));

        AdmissionDecision third = admission.TryAdmit(Request("vm-3", "a", "d"));
        Assert.Equal(AdmissionDenialReason.OutboundCapReached, third.Reason);
        Assert.Contains("Host 'a'", third.Message, StringComparison.Ordinal);

        first.Lease.Complete(MigrationOutcome.Succeeded);
        Assert.True(admission.TryAdmit(Request("vm-3", "a", "d")).IsAdmitted);
    }

    [Fact]
    public void Options_ChangedAfterTheControllerWasMade_DoNotReachIt()
    {
        var options = new AdmissionOptions { MaxOutboundPerHost = 1 };
        var admission = new AdmissionController(options, _time, new Random(7));
        admission.TryAdmit(Request("vm-1", "a", "b"));

        options.MaxOutboundPerHost = 100;
        options.Backoff.BaseDelay = TimeSpan.FromDays(1);

        Assert.Equal(AdmissionDenialReason.OutboundCapReached, admission.TryAdmit(Request("vm-2", "a", "c")).Reason);
    }

    [Fact]
    public void TryAdmit_InboundAndClusterCaps_AreEnforced()
    {
        AdmissionController admission = Controller(o => o.MaxOutboundPerHost = 10);
        admission.TryAdmit(Request("vm-1", "a", "z"));
        admission.TryAdmit(Request("vm-2", "b", "z"));
        Assert.Equal(AdmissionDenialReason.InboundCapReached, admission.TryAdmit(Request("vm-3", "c", "z")).Reason);

        admission.TryAdmit(Request("vm-4", "c", "y"));
        admission.TryAdmit(Request("vm-5", "d", "y"));
        admission.TryAdmit(Request("vm-6", "e", "x"));
        Assert.Equal(AdmissionDenialReason.ClusterCapReached, admission.TryAdmit(Request("vm-7", "f", "w")).Reason);
        Assert.Equal(5, admission.ActiveMigrations);
    }

    [Fact]
    public void TryAdmit_SameVmTwice_IsAlreadyMigrating()
    {
        AdmissionController admission = Controller();
        admission.TryAdmit(Request("vm-1"));

        Assert.Equal(AdmissionDenialReason.AlreadyMigrating, admission.TryAdmit(Request("vm-1", "a", "c")).Reason);
    }

    [Fact]
    public void TryAdmit_AutomaticSoonAfterAMove_IsDeniedForDwellButManualOverrides()
    {
        AdmissionController admission = Controller();
        admission.TryAdmit(Request("vm-1", "a", "b")).Lease.Complete(MigrationOutcome.Succeeded);
        _time.Advance(TimeSpan.FromMinutes(1));

        AdmissionDecision automatic = admission.TryAdmit(Request("vm-1", "b", "c", MigrationTrigger.Automatic));
        Assert.Equal(AdmissionDenialReason.DwellTime, automatic.Reason);
        Assert.Equal(TimeSpan.FromMinutes(9), automatic.RetryAfter);

        Assert.True(admission.TryAdmit(Request("vm-1", "b", "c", MigrationTrigger.Manual)).IsAdmitted);
    }

    [Fact]
    public void TryAdmit_BalancerMovingAVmBack_IsStoppedAfterTheFirstCycle()
    {
        AdmissionController admission = Controller();
        admission.TryAdmit(Request("vm-1", "a", "b", MigrationTrigger.Automatic)).Lease.Complete(MigrationOutcome.Succeeded);
        _time.Advance(TimeSpan.FromMinutes(11));

        AdmissionDecision back = admission.TryAdmit(Request("vm-1", "b", "a", MigrationTrigger.Automatic));
        Assert.Equal(AdmissionDenialReason.PingPong, back.Reason);
        Assert.Contains("back to 'a'", back.Message, StringComparison.Ordinal);

        Assert.True(admission.TryAdmit(Request("vm-1", "b", "c", MigrationTrigger.Automatic)).IsAdmitted);
    }

    [Fact]
    public void TryAdmit_RetryRightAfterAFailure_WaitsOutTheBackoff()
    {
        AdmissionController admission = Controller();
        admission.TryAdmit(Request("vm-1")).Lease.Complete(MigrationOutcome.Failed);

        AdmissionDecision retry = admission.TryAdmit(Request("vm-1", trigger: MigrationTrigger.Retry));

        Assert.Equal(AdmissionDenialReason.Backoff, retry.Reason);
        Assert.InRange(retry.RetryAfter, new BackoffOptions().BaseDelay, new BackoffOptions().MaxDelay);
        _time.Advance(retry.RetryAfter);
        Assert.True(admission.TryAdmit(Request("vm-1", trigger: MigrationTrigger.Retry)).IsAdmitted);
    }

    [Fact]
    public void TryAdmit_RepeatedFailures_OpenTheBreakerThenOneProbeGoesThrough()
    {
        AdmissionController admission = Controller(o => o.VmRetryBudget.PercentCanRetry = 10);
        admission.TryAdmit(Request("vm-1")).Lease.Complete(MigrationOutcome.Failed);
        for (int i = 0; i < 2; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(6));
            admission.TryAdmit(Request("vm-1", trigger: MigrationTrigger.Retry)).Lease.Complete(MigrationOutcome.Failed);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        AdmissionDecision open = admission.TryAdmit(Request("vm-1", trigger: MigrationTrigger.Manual));
        Assert.Equal(AdmissionDenialReason.CircuitOpen, open.Reason);

        _time.Advance(open.RetryAfter);
        AdmissionDecision probe = admission.TryAdmit(Request("vm-1", trigger: MigrationTrigger.Manual));
        Assert.True(probe.IsAdmitted);
        probe.Lease.Complete(MigrationOutcome.Succeeded);
        Assert.True(admission.TryAdmit(Request("vm-1", "b", "c", MigrationTrigger.Manual)).IsAdmitted);
    }

    [Fact]
    public void TryAdmit_ThrashedVm_DoesNotStarveOtherVms()
    {
        // Backoff and breaker out of the way: the retry budget alone must hold the victim's retries down.
        AdmissionController admission = Controller(o =>
        {
            o.CircuitBreaker.FailureThreshold = 1000;
            o.Backoff.BaseDelay = TimeSpan.FromMilliseconds(1);
            o.Backoff.MaxDelay = TimeSpan.FromMilliseconds(1);
            o.ManualPerMinute = 1000;
        });
        int deniedForBudget = 0;
        int admittedRetries = 0;
        admission.TryAdmit(Request("victim")).Lease.Complete(MigrationOutcome.Failed);
        for (int i = 0; i < 200; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            AdmissionDecision retry = admission.TryAdmit(Request("victim", trigger: MigrationTrigger.Retry));
            if (retry.IsAdmitted)
            {
                admittedRetries++;
                retry.Lease.Complete(MigrationOutcome.Failed);
            }
            else if (retry.Reason == AdmissionDenialReason.RetryBudgetExhausted)
            {
                deniedForBudget++;
            }

            AdmissionDecision other = admission.TryAdmit(Request($"vm-{i}", "c", "d"));
            Assert.True(other.IsAdmitted, $"vm-{i} was denied: {other.Message}");
            other.Lease.Complete(MigrationOutcome.Succeeded);
        }

        // 1000 s of retries every 5 s: the VM budget's floor (0.05/s) allows about 50, not 200.
        Assert.True(deniedForBudget > 100, $"{deniedForBudget} denials for the budget");
        Assert.InRange(admittedRetries, 40, 60);
    }

    [Fact]
    public void TryAdmit_ThrashedHostPair_DoesNotStarveOtherPairs()
    {
        AdmissionController admission = Controller(o => o.ManualPerMinute = 1000);
        for (int i = 0; i < 3; i++)
        {
            admission.TryAdmit(Request($"vm-{i}", "a", "b")).Lease.Complete(MigrationOutcome.Failed);
        }

        AdmissionDecision sameLink = admission.TryAdmit(Request("vm-9", "a", "b"));
        Assert.Equal(AdmissionDenialReason.CircuitOpen, sameLink.Reason);
        Assert.Contains("host pair", sameLink.Message, StringComparison.Ordinal);

        Assert.True(admission.TryAdmit(Request("vm-10", "a", "c")).IsAdmitted);
        Assert.True(admission.TryAdmit(Request("vm-11", "d", "b")).IsAdmitted);
    }

    [Fact]
    public void TryAdmit_FloodOfDistinctVmIds_StaysBoundedAndRefusesRatherThanForgets()
    {
        AdmissionController admission = Controller(o =>
        {
            o.MaxTrackedVms = 100;
            o.ManualPerMinute = 1_000_000;
        });
        int refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            AdmissionDecision decision = admission.TryAdmit(Request($"fake-{i}"));
            if (decision.IsAdmitted)
            {
                decision.Lease.Complete(MigrationOutcome.Cancelled);
            }
            else
            {
                Assert.Equal(AdmissionDenialReason.TooManyTrackedVms, decision.Reason);
                refused++;
            }
        }

        Assert.Equal(100, admission.TrackedVms);
        Assert.Equal(900, refused);
        _time.Advance(new AdmissionOptions().IdleExpiry);
        Assert.True(admission.TryAdmit(Request("real-vm")).IsAdmitted);
        Assert.Equal(1, admission.TrackedVms);
    }

    [Fact]
    public void TryAdmit_AutomaticRequestsBeyondTheirRate_AreRateLimited()
    {
        AdmissionController admission = Controller(o => o.MaxConcurrentMigrations = 100);
        var decisions = Enumerable.Range(0, 10)
            .Select(i => admission.TryAdmit(Request($"vm-{i}", $"h{i}", $"k{i}", MigrationTrigger.Automatic)))
            .ToList();

        Assert.Equal(6, decisions.Count(d => d.IsAdmitted));
        Assert.Equal(AdmissionDenialReason.RateLimited, decisions[^1].Reason);
        Assert.Contains("automatic", decisions[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_Twice_Throws()
    {
        AdmissionDecision decision = Controller().TryAdmit(Request("vm-1"));
        decision.Lease.Complete(MigrationOutcome.Succeeded);

        Assert.Throws<InvalidOperationException>(() => decision.Lease.Complete(MigrationOutcome.Succeeded));
    }

    [Fact]
    public void TryAdmit_SteadyState_AllocatesNothingOnAdmittedOrDeniedPaths()
    {
        AdmissionController admission = Controller(o => o.ManualPerMinute = 1e9);
        MigrationRequest request = Request("vm-1");
        MigrationRequest blocked = Request("vm-1", "a", "c");
        for (int i = 0; i < 100; i++)
        {
            AdmissionDecision warm = admission.TryAdmit(request);
            admission.TryAdmit(blocked);
            warm.Lease.Complete(MigrationOutcome.Cancelled);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            AdmissionDecision admitted = admission.TryAdmit(request);
            AdmissionDecision denied = admission.TryAdmit(blocked);
            Assert.True(admitted.IsAdmitted && !denied.IsAdmitted);
            admitted.Lease.Complete(MigrationOutcome.Cancelled);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
