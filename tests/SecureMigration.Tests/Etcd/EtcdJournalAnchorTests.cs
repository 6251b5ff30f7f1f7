using SecureMigration.Coordination;
using SecureMigration.Coordination.Journal;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Journal anchoring through etcd (issue 18): every checkpoint's head is kept in the cluster, so a host whose journal
/// was replaced by an older copy is found when it starts, whichever orchestrator restarts it.
/// </summary>
public sealed class EtcdJournalAnchorTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    [RequiresProgramFact("etcd")]
    public async Task RecoverAsync_JournalReplacedByAnOlderCopy_IsRefusedFromTheHeadInEtcd()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host));
        string older = hosts.Destination.JournalPath + ".older";
        File.Copy(hosts.Destination.JournalPath, older);
        (MigrationResult first, _) = await hosts.MigrateAsync();
        Assert.Equal(MigrationStatus.Completed, first.Status);
        long anchored = hosts.Destination.Journal.Head.Sequence;
        JournalHead? inEtcd = await Registries.For(hosts.Destination.Id)
            .GetHeadAsync(hosts.Destination.Id + " " + hosts.Destination.JournalPath);
        Assert.Equal(anchored, inEtcd?.Sequence);

        string journal = hosts.Destination.JournalPath;
        await hosts.RestartBothAsync(whileDestinationIsDown: () => File.Copy(older, journal, overwrite: true));

        JournalRolledBackException refused = await Assert.ThrowsAsync<JournalRolledBackException>(() =>
            hosts.Destination.Coordinator.RecoverAsync());
        Assert.Equal((0L, anchored), (refused.Journal.Sequence, refused.Anchored.Sequence));
    }

    /// <summary>
    /// Someone who can write etcd puts a head far ahead of the journal, unsigned: the host does not take it for a
    /// rolled-back journal (nor for anything), and says the anchor is not its own.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task RecoverAsync_AnAnchorNotSignedByTheHost_IsRefusedAsSuch()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host));
        (MigrationResult first, _) = await hosts.MigrateAsync();
        Assert.Equal(MigrationStatus.Completed, first.Status);
        string key = "journals/" + Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(hosts.Destination.Id + " " +
            hosts.Destination.JournalPath));
        byte[] aheadUnsigned = """{"Journal":"x","Sequence":999999,"Mac":"00"}"""u8.ToArray();
        await Registries.WriteKeyAsync(key, aheadUnsigned);

        var refused = await Assert.ThrowsAsync<SecureMigration.Coordination.Ownership.OwnershipRegistryException>(() =>
            hosts.Destination.Coordinator.RecoverAsync());

        Assert.Contains("is not signed by this host ('destination.test')", refused.Message, StringComparison.Ordinal);
    }
}
