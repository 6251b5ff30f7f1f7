namespace SecureMigration.Coordination.Journal;

/// <summary>
/// Bytes at the end of a journal that did not form an authentic record: a write torn by a crash, or a damaged last
/// record. They were never acted on (the coordinator acts only after a record is durable), so they are dropped.
/// </summary>
/// <param name="Offset">Where the dropped bytes started.</param>
/// <param name="Length">How many bytes were dropped.</param>
/// <param name="Problem">What was wrong with them.</param>
public sealed record JournalTail(long Offset, long Length, string Problem);
