using SecureMigration.Coordination;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Defense (issue 14, hole 5): each host's journal head is anchored in the registry, so a journal replaced by an
/// older valid copy is found at start and nothing is recovered on its word.
/// </summary>
public sealed class JournalAnchorTests
{
    [Fact]
    public async Task RecoverAsync_JournalReplacedByAnOlderCopy_RefusesNamingBothHeads()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync();
        string older = hosts.Destination.JournalPath + ".older";
        File.Copy(hosts.Destination.JournalPath, older);
        (MigrationResult first, _) = await hosts.MigrateAsync();
        Assert.Equal(MigrationStatus.Completed, first.Status);
        long anchored = hosts.Destination.Journal.Head.Sequence;

        string journal = hosts.Destination.JournalPath;
        await hosts.RestartBothAsync(whileDestinationIsDown: () => File.Copy(older, journal, overwrite: true));

        JournalRolledBackException refused = await Assert.ThrowsAsync<JournalRolledBackException>(() =>
            hosts.Destination.Coordinator.RecoverAsync());
        Assert.Equal((0L, anchored), (refused.Journal.Sequence, refused.Anchored.Sequence));
        Assert.Contains("replaced by an older or another copy", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await hosts.Source.Coordinator.RecoverAsync());
    }

    [Fact]
    public async Task RecoverAsync_AnchorLagsBehindTheJournal_IsNormalAndCatchesUp()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync();
        await hosts.MigrateAsync();
        JournalHead head = hosts.Destination.Journal.Head;
        // As after a crash between the journal's write and the anchor's, or on the first start with a registry that anchors.
        Directory.Delete(Path.Combine(hosts.Registry.Directory, "journal-heads"), recursive: true);

        Assert.Empty(await hosts.Destination.Coordinator.RecoverAsync());

        Assert.Equal(head, await hosts.Registry.GetHeadAsync(hosts.Destination.Id + " " + hosts.Destination.JournalPath));
    }

    [Fact]
    public async Task MigrateAsync_RegistrySlowToAnchor_StepsGoOnAndTheFurthestHeadIsAnchoredBeforeTheResult()
    {
        // Issue 19: a checkpoint does not wait for the registry's anchor (a lagging anchor is normal), so a slow registry
        // costs the migration nothing per phase; the heads handed over while a write runs are covered by one later write, and
        // the migration returns only once its last head is anchored.
        HeldAnchorRegistry? held = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationRegistry: registry => held = new HeldAnchorRegistry(registry));
        string name = hosts.Destination.Id + " " + hosts.Destination.JournalPath;
        held!.Hold();
        var completed = new PhaseReached(MigrationPhase.Completed);

        Task<(MigrationResult Source, MigrationResult? Destination)> migrating = hosts.MigrateAsync(completed);
        await completed.Reached.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.NotEqual(hosts.Destination.Journal.Head, await hosts.Registry.GetHeadAsync(name));
        Assert.False(migrating.IsCompleted);
        held.Release();
        (MigrationResult source, MigrationResult? destination) = await migrating;
        Assert.Equal((MigrationStatus.Completed, MigrationStatus.Completed), (source.Status, destination?.Status));
        Assert.Equal(hosts.Destination.Journal.Head, await hosts.Registry.GetHeadAsync(name));
        Assert.Equal(2, held.Writes);
    }
}
