
namespace SecureMigration.Coordination.Journal;

/// <summary>
/// Keeps each host's journal head outside the host, so a journal replaced by an older copy (a restored backup, a
/// local attacker rolling back what the host knows) is found when the coordinator starts: the anchored head is then
/// ahead of the journal. The coordinator anchors its head after every checkpoint; an anchor that lags behind the journal
/// (a crash between the two writes) is normal. <c>Ownership.FileOwnershipRegistry</c> implements it beside the ownership
/// records; a registry in a consensus store should too.
/// </summary>
public interface IJournalAnchor
{
    /// <summary>Reads the head last anchored for the journal <paramref name="journal"/>.</summary>
    /// <param name="journal">Which journal: its host's identity and its path (a host may keep several, one per process).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The head, or <see langword="null"/> when none was anchored.</returns>
    ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default);

    /// <summary>Anchors <paramref name="head"/> for the journal <paramref name="journal"/>, unless a head further on is anchored
    /// already.</summary>
    /// <param name="journal">Which journal: its host's identity and its path.</param>
    /// <param name="head">The journal's head.</param>
    /// <param name="cancellationToken">Cancels the wait; a write that started completes.</param>
    /// <returns>A task that completes once the head is durable.</returns>
    ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default);
}
