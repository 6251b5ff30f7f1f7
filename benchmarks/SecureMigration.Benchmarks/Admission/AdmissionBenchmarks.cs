using BenchmarkDotNet.Attributes;
using SecureMigration.Admission;

namespace SecureMigration.Benchmarks.Admission;

/// <summary>
/// The cost of one admission decision in steady state (issue 3 target: at most 200 ns, no allocation), on the
/// admitted path (admit and complete) and on a denied path (the VM is already migrating; a retry past its budget).
/// </summary>
[MemoryDiagnoser]
public class AdmissionBenchmarks
{
    private readonly MigrationRequest _request = new("vm-1", "host-a", "host-b", MigrationTrigger.Manual);
    private readonly MigrationRequest _retry = new("vm-2", "host-c", "host-d", MigrationTrigger.Retry);
    private readonly MigrationRequest _busy = new("vm-3", "host-e", "host-g", MigrationTrigger.Manual);
    private AdmissionController _admission = null!;
    private AdmissionLease _held;

    [GlobalSetup]
    public void Setup()
    {
        var options = new AdmissionOptions { ManualPerMinute = 1e12 };
        options.VmRetryBudget.MinRetriesPerSecond = 0;
        options.VmRetryBudget.PercentCanRetry = 0;
        options.Backoff.BaseDelay = TimeSpan.FromTicks(1);
        options.Backoff.MaxDelay = TimeSpan.FromTicks(1);
        _admission = new AdmissionController(options);
        _admission.TryAdmit(_retry with { Trigger = MigrationTrigger.Manual }).Lease.Complete(MigrationOutcome.Cancelled);
        _held = _admission.TryAdmit(new MigrationRequest("vm-3", "host-e", "host-f", MigrationTrigger.Manual)).Lease;
    }

    [GlobalCleanup]
    public void Cleanup() => _held.Complete(MigrationOutcome.Cancelled);

    [Benchmark(Description = "admitted (TryAdmit + Complete)")]
    public bool Admitted()
    {
        AdmissionDecision decision = _admission.TryAdmit(_request);
        decision.Lease.Complete(MigrationOutcome.Cancelled);
        return decision.IsAdmitted;
    }

    [Benchmark(Description = "denied: already migrating")]
    public AdmissionDenialReason DeniedAlreadyMigrating() =>
        _admission.TryAdmit(_busy).Reason;

    [Benchmark(Description = "denied: retry budget exhausted")]
    public AdmissionDenialReason DeniedBudget() => _admission.TryAdmit(_retry).Reason;
}
