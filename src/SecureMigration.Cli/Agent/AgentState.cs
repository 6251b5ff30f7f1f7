using SecureMigration.Cli.Control;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Cli.Agent;

/// <summary>What the control API reports of a running agent and acts on: its host, the VMs it serves, where it listens, how many
/// migrations it is receiving (its loop updates that) and the migrations it runs as a source.</summary>
/// <param name="hostId">The host's identity.</param>
/// <param name="servedVms">The VMs it serves (<c>--vm</c>).</param>
/// <param name="registry">The ownership registry it commits through.</param>
/// <param name="journal">Its journal.</param>
/// <param name="outgoing">The migrations it runs as a source for the control API.</param>
internal sealed class AgentState(string hostId, IReadOnlyList<string> servedVms, IOwnershipRegistry registry, IMigrationJournal journal,
    OutgoingMigrations outgoing)
{
    private int _inFlight;

    public string HostId => hostId;

    public IReadOnlyList<string> ServedVms => servedVms;

    public IOwnershipRegistry Registry => registry;

    public IMigrationJournal Journal => journal;

    public OutgoingMigrations Outgoing => outgoing;

    /// <summary>Gets or sets the address migrations arrive at, once the listener is bound.</summary>
    public string? Listening { get; set; }

    /// <summary>Gets the number of migrations running now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Counts a migration that started.</summary>
    public void MigrationStarted() => Interlocked.Increment(ref _inFlight);

    /// <summary>Counts a migration that ended.</summary>
    public void MigrationEnded() => Interlocked.Decrement(ref _inFlight);
}
