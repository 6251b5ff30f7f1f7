using SecureMigration.Admission;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class CoordinatorAdmissionTests
{
    /// <summary>
    /// A source that starts its next migration as soon as one ends must find the destination's slot for it free: the
    /// destination holds its post-commit work (running the VM, cleaning up) until the source has heard of the commit, and its
    /// admission must show nothing active by then.
    /// </summary>
    [Fact]
    public async Task ReceiveAsync_Committed_FreesTheDestinationsAdmissionSlotBeforeTheSourceHearsOfIt()
    {
        var admission = new AdmissionController(new AdmissionOptions());
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationAdmission: admission);
        using var sourceHeard = new ManualResetEventSlim();
        int? activeWhenSourceHeard = null;
        var source = new SynchronousProgress<MigrationProgress>(p =>
        {
            if (p.Phase == MigrationPhase.Committed && !sourceHeard.IsSet)
            {
                activeWhenSourceHeard = admission.ActiveMigrations;
                sourceHeard.Set();
            }
        });
        var destination = new SynchronousProgress<MigrationProgress>(p =>
        {
            if (p.Phase == MigrationPhase.Cleaned)
            {
                sourceHeard.Wait(TimeSpan.FromSeconds(30));
            }
        });

        (MigrationResult sourceResult, MigrationResult? destinationResult) = await hosts.MigrateAsync(destination, source);

        Assert.True(sourceResult.Status == MigrationStatus.Completed, sourceResult.Reason);
        Assert.Equal(MigrationStatus.Completed, destinationResult!.Status);
        Assert.Equal(0, activeWhenSourceHeard);
    }

    [Fact]
    public async Task MigrateAsync_AdmissionDenies_RefusesBeforeAnythingIsJournaled()
    {
        using var dir = new TempDirectory();
        var registry = new FileOwnershipRegistry(dir.File("registry"));
        var admission = new AdmissionController(new AdmissionOptions { MaxConcurrentMigrations = 1 });
        AdmissionLease busy = admission.TryAdmit(new MigrationRequest("vm-other", "source.test", "elsewhere",
            MigrationTrigger.Manual)).Lease;
        await using TestHost host = TestHost.Create("source.test", dir.File("source"), registry, admission: admission);
        await host.Driver.CreateVmAsync("vm-1", 1024 * 1024);
        await registry.RegisterAsync("vm-1", host.Id);

        MigrationResult result = await host.Coordinator.MigrateAsync("vm-1", "destination.test", (_,
            _) => throw new InvalidOperationException("no channel may be opened"));

        Assert.Equal(MigrationStatus.Refused, result.Status);
        Assert.StartsWith("admission denied it: The cluster already", result.Reason, StringComparison.Ordinal);
        Assert.Empty(host.Journal.Records);
        Assert.Equal(VmRunState.Running, (await host.Driver.QueryAsync("vm-1")).State);
        busy.Complete(MigrationOutcome.Cancelled);
    }

    [Fact]
    public async Task MigrateAsync_NotTheOwner_IsRefusedWithTheOwnersName()
    {
        using var dir = new TempDirectory();
        var registry = new FileOwnershipRegistry(dir.File("registry"));
        await using TestHost host = TestHost.Create("source.test", dir.File("source"), registry);
        await host.Driver.CreateVmAsync("vm-1", 1024 * 1024);
        await registry.RegisterAsync("vm-1", "someone-else");

        MigrationResult result = await host.Coordinator.MigrateAsync("vm-1", "destination.test", (_,
            _) => throw new InvalidOperationException("no channel may be opened"));

        Assert.Equal(MigrationStatus.Refused, result.Status);
        Assert.Contains("'someone-else' holds its epoch 1", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateAsync_Admitted_CompletesTheLeaseWithTheOutcome()
    {
        var admission = new AdmissionController(new AdmissionOptions());
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceAdmission: admission);

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.True(source.IsCommitted, source.Reason);
        Assert.Equal(0, admission.ActiveMigrations);
        // The VM just moved: dwell time now keeps an automatic request from moving it straight back.
        AdmissionDecision again = admission.TryAdmit(new MigrationRequest(TwoHosts.VmId, "destination.test", "source.test",
            MigrationTrigger.Automatic));
        Assert.Equal(AdmissionDenialReason.DwellTime, again.Reason);
    }
}
