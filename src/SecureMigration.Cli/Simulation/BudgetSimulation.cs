using SecureMigration.Admission;

namespace SecureMigration.Cli.Simulation;

/// <summary>
/// Runs an admission policy against a simulated cluster on a manual clock, one second at a time, with a seeded
/// random source: the same settings always give the same summary.
/// </summary>
internal sealed class BudgetSimulation(AdmissionOptions options, SimulationSettings settings)
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MeanTimeBetweenRequests = TimeSpan.FromMinutes(20);

    public SimulationSummary Run()
    {
        var random = new Random(settings.Seed);
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var admission = new AdmissionController(options, clock, new Random(settings.Seed + 1));
        var summary = new SimulationSummary { RetryBoundPerWindow = options.VmRetryBudget.MaxRetriesPerWindow(0) };
        var vms = Enumerable.Range(0, settings.Vms).Select(i => new SimulatedVm($"vm-{i}", $"host-{i % settings.Hosts}")).ToArray();
        DateTimeOffset end = clock.GetUtcNow() + settings.Duration;
        double requestChancePerStep = Step / MeanTimeBetweenRequests;

        while (clock.GetUtcNow() < end)
        {
            DateTimeOffset now = clock.GetUtcNow();
            foreach (SimulatedVm vm in vms)
            {
                if (vm.Lease is { } lease && now >= vm.EndsAt)
                {
                    Finish(vm, lease, summary);
                }

                if (vm.Lease is null && vm.Wants is { } trigger && now >= vm.AskAt)
                {
                    Ask(admission, vm, trigger, now, random, summary);
                }
                else if (vm.Lease is null && vm.Wants is null && random.NextDouble() < requestChancePerStep)
                {
                    vm.Wants = settings.Scenario == SimulationScenario.PingPong ? MigrationTrigger.Automatic : MigrationTrigger.Manual;
                    vm.Target = OtherHost(vm.Host, random);
                    vm.AskAt = now;
                    vm.WaitingSince = now;
                }
            }

            clock.Advance(Step);
        }

        return summary;
    }

    private void Ask(AdmissionController admission, SimulatedVm vm, MigrationTrigger trigger, DateTimeOffset now, Random random,
        SimulationSummary summary)
    {
        summary.Attempts++;
        AdmissionDecision decision = admission.TryAdmit(new MigrationRequest(vm.Id, vm.Host, vm.Target!, trigger));
        if (decision.IsAdmitted)
        {
            if (trigger == MigrationTrigger.Retry)
            {
                summary.RetriesAdmitted++;
            }
            else
            {
                summary.FirstAttemptsAdmitted++;
            }

            TimeSpan waited = now - vm.WaitingSince;
            summary.LongestWait = waited > summary.LongestWait ? waited : summary.LongestWait;
            vm.Lease = decision.Lease;
            bool cut = settings.Scenario == SimulationScenario.Thrash && random.NextDouble() < settings.CutRate;
            TimeSpan duration = cut ? settings.MigrationTime * random.NextDouble() : settings.MigrationTime;
            vm.EndsAt = now + duration;
            vm.WillFail = cut;
            return;
        }

        SortedDictionary<string, long> denials = trigger == MigrationTrigger.Retry ? summary.RetriesDenied : summary.FirstAttemptsDenied;
        string reason = decision.Reason.ToString();
        denials[reason] = denials.GetValueOrDefault(reason) + 1;
        if (decision.Reason == AdmissionDenialReason.PingPong)
        {
            // The balancer is told no; it gives up on this move, which is the point.
            summary.PingPongCyclesStopped++;
            vm.Wants = null;
            return;
        }

        // Orchestrators ask again when told to, at least a second later.
        vm.AskAt = now + (decision.RetryAfter > Step ? decision.RetryAfter : Step);
    }

    private void Finish(SimulatedVm vm, AdmissionLease lease, SimulationSummary summary)
    {
        vm.Lease = null;
        if (vm.WillFail)
        {
            summary.Cut++;
            lease.Complete(MigrationOutcome.Failed);
            vm.Wants = MigrationTrigger.Retry;
            vm.AskAt = vm.EndsAt;
            return;
        }

        summary.Succeeded++;
        lease.Complete(MigrationOutcome.Succeeded);
        string previous = vm.Host;
        vm.Host = vm.Target!;
        vm.Wants = null;
        if (settings.Scenario == SimulationScenario.PingPong)
        {
            // The balancer changes its mind at once and wants the VM back.
            vm.Wants = MigrationTrigger.Automatic;
            vm.Target = previous;
            vm.AskAt = vm.EndsAt;
            vm.WaitingSince = vm.EndsAt;
        }
    }

    private string OtherHost(string host, Random random)
    {
        string target;
        do
        {
            target = $"host-{random.Next(settings.Hosts)}";
        }
        while (target == host);
        return target;
    }

    private sealed class SimulatedVm(string id, string host)
    {
        public string Id { get; } = id;

        public string Host { get; set; } = host;

        public string? Target { get; set; }

        public MigrationTrigger? Wants { get; set; }

        public DateTimeOffset AskAt { get; set; }

        public DateTimeOffset WaitingSince { get; set; }

        public AdmissionLease? Lease { get; set; }

        public DateTimeOffset EndsAt { get; set; }

        public bool WillFail { get; set; }
    }
}
