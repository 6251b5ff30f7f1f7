using SecureMigration.Admission;
using SecureMigration.Cli.Simulation;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Demo;

/// <summary>
/// The demo's thrash scene: an attacker cuts every migration of one VM; admission lets retries through after
/// their backoff, then stops them with a reason, on a simulated clock so the scene takes no real time.
/// </summary>
internal sealed class ThrashScene(ConsoleStyle style)
{
    public bool Run()
    {
        style.Line(style.Strong("4. Thrashing: an attacker cuts every migration of demo-vm"));
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var admission = new AdmissionController(new AdmissionOptions(), clock, new Random(2026));
        DateTimeOffset start = clock.GetUtcNow();
        var request = new MigrationRequest("demo-vm", "source.demo", "destination.demo", MigrationTrigger.Manual);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            AdmissionDecision decision = admission.TryAdmit(request);
            string at = $"   t+{clock.GetUtcNow() - start:mm\\:ss}";
            if (decision.IsAdmitted)
            {
                style.Line($"{at} {(attempt == 0 ? "first attempt" : "retry")} admitted; the attacker cuts it.");
                decision.Lease.Complete(MigrationOutcome.Failed);
                request = request with { Trigger = MigrationTrigger.Retry };
                continue;
            }

            if (decision.Reason is AdmissionDenialReason.CircuitOpen or AdmissionDenialReason.RetryBudgetExhausted)
            {
                style.Line(style.Good($"{at} denied ({decision.Reason}): ") + decision.Message);
                style.Line("   The VM keeps running on its source; the attacker cannot make it restart forever.");
                return true;
            }

            style.Line(style.Dim($"{at} retry denied ({decision.Reason}), ask again in {decision.RetryAfter:mm\\:ss}."));
            clock.Advance(decision.RetryAfter);
        }

        style.Line(style.Bad("   Retries were never stopped."));
        return false;
    }
}
