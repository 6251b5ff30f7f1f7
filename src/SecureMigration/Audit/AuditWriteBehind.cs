using SecureMigration.Threading;

namespace SecureMigration.Audit;

/// <summary>
/// Writes a sink's entries in the order they are handed over, one at a time, off the caller's path: a checkpoint hands
/// its phase's entry over and goes on while the entry is written and flushed (ADR 0025). <see cref="SerialWriter{T}.FlushAsync"/>
/// waits for every entry handed over so far; the coordinator waits for it before a migration returns and at the end of
/// recovery, and <see cref="WriteAsync(Guid?, string?, string, string?)"/> (hand over, then flush) keeps an entry's
/// durability for callers that need it before they go on. An entry that cannot be written is reported to the failure
/// callback and dropped: no audit failure stops a migration, and the journal, written before every phase's entry, holds
/// the same checkpoints.
/// </summary>
internal sealed class AuditWriteBehind : SerialWriter<AuditWriteBehind.Entry>
{
    private readonly IAuditSink _sink;
    private readonly Action<string, Exception> _failed;
    private readonly Queue<Entry> _pending = new();

    /// <summary>Creates a writer for <paramref name="sink"/> that tells <paramref name="failed"/> of each entry lost (its event
    /// name and the error).</summary>
    public AuditWriteBehind(IAuditSink sink, Action<string, Exception> failed)
    {
        _sink = sink;
        _failed = failed;
    }

    /// <summary>Hands an entry over to be written after the ones before it, and returns without waiting.</summary>
    public void Enqueue(Guid? migrationId, string? vmId, string eventName, string? detail) =>
        Hand(() => _pending.Enqueue(new Entry(migrationId, vmId, eventName, detail)));

    /// <summary>Hands an entry over and waits until it (and every one before it) was written, or dropped and reported.</summary>
    public Task WriteAsync(Guid? migrationId, string? vmId, string eventName, string? detail)
    {
        Enqueue(migrationId, vmId, eventName, detail);
        return FlushAsync();
    }

    /// <inheritdoc />
    protected override bool TryTake(out Entry entry) => _pending.TryDequeue(out entry);

    /// <inheritdoc />
    protected override async Task WriteAsync(Entry entry)
    {
        try
        {
            await _sink.AppendAsync(entry.MigrationId, entry.VmId, entry.EventName, entry.Detail).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Best effort by design, as before it went behind: nobody awaits this entry to hear of its failure.
            _failed(entry.EventName, e);
        }
    }

    /// <summary>An entry handed over.</summary>
    internal readonly record struct Entry(Guid? MigrationId, string? VmId, string EventName, string? Detail);
}
