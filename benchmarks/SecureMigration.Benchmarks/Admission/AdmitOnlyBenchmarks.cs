using BenchmarkDotNet.Attributes;
using SecureMigration.Admission;

namespace SecureMigration.Benchmarks.Admission;

/// <summary>
/// <c>TryAdmit</c> alone on the admitted path: each iteration admits 1,000 VMs that are already known to the
/// controller, and the leases are completed in the iteration setup, outside the measurement. An iteration is
/// that short (under a millisecond) that BenchmarkDotNet's warm-up ends before the runtime's tiered compiler
/// (which waits about 100 ms) has replaced the first, unoptimized code; the global setup therefore runs the
/// admission path for a second first, so the optimized code is what gets measured.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Vms, unrollFactor: 1)]
public class AdmitOnlyBenchmarks
{
    private const int Vms = 1000;
    private readonly MigrationRequest[] _requests = Enumerable.Range(0, Vms)
        .Select(i => new MigrationRequest($"vm-{i}", $"host-{i % 10}", $"host-{(i % 10) + 10}", MigrationTrigger.Manual)).ToArray();
    private readonly AdmissionLease[] _leases = new AdmissionLease[Vms];
    private AdmissionController _admission = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var options = new AdmissionOptions { ManualPerMinute = 1e12, MaxConcurrentMigrations = Vms, MaxOutboundPerHost = Vms,
            MaxInboundPerHost = Vms };
        _admission = new AdmissionController(options);
        long warmUntil = Environment.TickCount64 + 1000;
        while (Environment.TickCount64 < warmUntil)
        {
            foreach (MigrationRequest request in _requests)
            {
                _admission.TryAdmit(request).Lease.Complete(MigrationOutcome.Cancelled);
            }
        }
    }

    [IterationSetup]
    public void CompleteLeases()
    {
        for (int i = 0; i < _next; i++)
        {
            _leases[i].Complete(MigrationOutcome.Cancelled);
        }

        _next = 0;
    }

    [Benchmark(Description = "admitted: TryAdmit alone")]
    public void TryAdmit()
    {
        _leases[_next] = _admission.TryAdmit(_requests[_next]).Lease;
        _next++;
    }
}
