namespace SecureMigration.Coordination;

/// <summary>
/// Keeps each host's journal head outside the host, so a journal replaced by an older copy (a restored backup, a
/// local attacker rolling back what the host knows) is found when the coordinator starts: the anchored head is then
/// ahead of the journal. The coordinator anchors its head after every checkpoint; an anchor that lags behind the journal
/// (a crash between the two writes) is normal. <see cref="FileOwnershipRegistry"/> implements it beside the ownership
/// records; a registry in a consensus store should too.
/// </summary>
public interface IJournalAnchor
{
    /// <summary>Reads the head last anchored for <paramref name="host"/>.</summary>
    /// <param name="host">The host's identity.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The head, or <see langword="null"/> when none was anchored.</returns>
    ValueTask<JournalHead?> GetHeadAsync(string host, CancellationToken cancellationToken = default);

    /// <summary>Anchors <paramref name="head"/> for <paramref name="host"/>, unless a head further on is anchored already.</summary>
    /// <param name="host">The host's identity.</param>
    /// <param name="head">The journal's head.</param>
    /// <param name="cancellationToken">Cancels the wait; a write that started completes.</param>
    /// <returns>A task that completes once the head is durable.</returns>
    ValueTask AnchorHeadAsync(string host, JournalHead head, CancellationToken cancellationToken = default);
}
