using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Hosting;

public sealed class MigrationHostBuilderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private MigrationHostBuilder Complete(SimulatedHypervisor driver) => new MigrationHostBuilder("host.test")
        .UseHostKey(Path.Combine(_directory.Path, "host.key"))
        .UseJournal(Path.Combine(_directory.Path, "journal.smj"))
        .UseAudit(Path.Combine(_directory.Path, "audit.log"))
        .UseOwnershipRegistry(new FileOwnershipRegistry(Path.Combine(_directory.Path, "registry")))
        .UseDriver(driver);

    [Fact]
    public async Task BuildAsync_WithoutADriver_NamesTheCallThatIsMissing_AndOpensNoFile()
    {
        var builder = new MigrationHostBuilder("host.test")
            .UseHostKey(Path.Combine(_directory.Path, "host.key"))
            .UseJournal(Path.Combine(_directory.Path, "journal.smj"))
            .UseAudit(Path.Combine(_directory.Path, "audit.log"))
            .UseOwnershipRegistry(new FileOwnershipRegistry(Path.Combine(_directory.Path, "registry")));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => builder.BuildAsync());

        Assert.Contains("UseDriver", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory.Path, "journal.smj")));
        Assert.False(File.Exists(Path.Combine(_directory.Path, "host.key")));
    }

    [Fact]
    public async Task BuildAsync_FileJournalWithoutAHostKey_IsRefused()
    {
        await using var driver = new SimulatedHypervisor(Path.Combine(_directory.Path, "vms"));
        var builder = new MigrationHostBuilder("host.test")
            .UseJournal(Path.Combine(_directory.Path, "journal.smj"))
            .UseAudit(Path.Combine(_directory.Path, "audit.log"))
            .UseOwnershipRegistry(new FileOwnershipRegistry(Path.Combine(_directory.Path, "registry")))
            .UseDriver(driver);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => builder.BuildAsync());

        Assert.Contains("UseHostKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_AnInvalidOption_IsRefusedWithItsName()
    {
        await using var driver = new SimulatedHypervisor(Path.Combine(_directory.Path, "vms"));
        MigrationHostBuilder builder = Complete(driver).ConfigureCoordinator(o => o.StallTimeout = TimeSpan.Zero);

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => builder.BuildAsync());

        Assert.Contains("StallTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_Twice_IsRefused()
    {
        await using var driver = new SimulatedHypervisor(Path.Combine(_directory.Path, "vms"));
        MigrationHostBuilder builder = Complete(driver);
        await using MigrationHost host = await builder.BuildAsync();

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => builder.BuildAsync());

        Assert.Contains("already built", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_SnapshotsTheOptions_SoLaterChangesDoNotReachTheRunningHost()
    {
        await using var driver = new SimulatedHypervisor(Path.Combine(_directory.Path, "vms"));
        CoordinatorOptions? configured = null;
        MigrationHostBuilder builder = Complete(driver).ConfigureCoordinator(o => configured = o);
        await using MigrationHost host = await builder.BuildAsync();
        await host.Registry.RegisterAsync("vm-1", "host.test");
        await driver.CreateVmAsync("vm-1", 1 << 16);

        // Changes after the build must not reach the host: it still migrates as host.test, with no veto and the old ticket lifetime.
        configured!.HostId = "someone.else";
        configured.TicketLifetime = TimeSpan.FromMilliseconds(1);
        configured.PreMigrateHooks.Add(new DelegateHook("late veto", (_, _) => Task.FromResult(HookVerdict.Veto("added after the build"))));
        MigrationTicket? sent = null;
        MigrationResult result = await host.Coordinator.MigrateAsync("vm-1", "destination.test", (ticket, _) =>
        {
            sent = ticket;
            throw new IOException("no destination in this test");
        });

        Assert.NotNull(sent);
        Assert.Equal("host.test", sent.SourceIdentity);
        Assert.True(sent.ExpiresAt - DateTimeOffset.UtcNow >= TimeSpan.FromMinutes(1), $"The ticket expires at {sent.ExpiresAt:O}.");
        Assert.Equal(MigrationStatus.RolledBack, result.Status);
        Assert.Equal("host.test", host.HostId);
    }

    [Fact]
    public async Task DisposeAsync_ClosesTheFilesItOpened_ButNotAKeyItWasGiven()
    {
        await using var driver = new SimulatedHypervisor(Path.Combine(_directory.Path, "vms"));
        using HostKey key = HostKey.FromSecret(new byte[HostKey.Length]);
        MigrationHost host = await Complete(driver).UseHostKey(key).BuildAsync();

        await host.DisposeAsync();

        // The journal file is closed (it can be opened exclusively again), and the given key still works.
        await using MigrationHost again = await Complete(driver).UseHostKey(key).BuildAsync();
        Assert.Empty(again.Journal.Records);
    }
}
