using CsCheck;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;

namespace SecureMigration.Tests.Admission;

public sealed class AdmissionPropertyTests
{
    [Fact]
    public void TryAdmit_AnySequenceOfRequestsAndOutcomes_NeverBreaksACap()
    {
        var operation = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 7], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 120]);
        operation.Array[1, 300].Sample(operations =>
        {
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
            var options = new AdmissionOptions();
            var admission = new AdmissionController(options, time, new Random(1));
            var active = new List<AdmissionLease>();
            foreach ((int kind, int vm, int from, int to, int trigger, int seconds) in operations)
            {
                switch (kind)
                {
                    case 0 or 1 when from != to:
                        AdmissionDecision decision = admission.TryAdmit(new MigrationRequest($"vm-{vm}", $"h{from}", $"h{to}",
                            (MigrationTrigger)trigger));
                        if (decision.IsAdmitted)
                        {
                            active.Add(decision.Lease);
                        }
                        else
                        {
                            Assert.False(string.IsNullOrWhiteSpace(decision.Message));
                            Assert.True(decision.RetryAfter >= TimeSpan.Zero);
                        }

                        break;
                    case 2 when active.Count > 0:
                        AdmissionLease lease = active[seconds % active.Count];
                        active.Remove(lease);
                        lease.Complete((MigrationOutcome)(trigger % 3));
                        break;
                    default:
                        time.Advance(TimeSpan.FromSeconds(seconds));
                        break;
                }

                Assert.True(active.Count <= options.MaxConcurrentMigrations);
                Assert.All(active.GroupBy(l => l.Request.SourceHost), g => Assert.True(g.Count() <= options.MaxOutboundPerHost));
                Assert.All(active.GroupBy(l => l.Request.DestinationHost), g => Assert.True(g.Count() <= options.MaxInboundPerHost));
                Assert.Equal(active.Count, active.Select(l => l.Request.VmId).Distinct().Count());
                Assert.Equal(active.Count, admission.ActiveMigrations);
            }
        });
    }
}
