using SecureMigration.Audit;

namespace SecureMigration.Testing.InMemory;

/// <summary>An audit trail kept in memory, for tests that need no disk.</summary>
public sealed class InMemoryAuditSink(string host, TimeProvider timeProvider) : IAuditSink
{
    private readonly Lock _gate = new();
    private readonly List<AuditEntry> _entries = [];

    /// <summary>Gets a copy of the entries appended so far, in order.</summary>
    public IReadOnlyList<AuditEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<AuditEntry> AppendAsync(Guid? migrationId, string? vmId, string eventName, string? detail = null,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var entry = new AuditEntry(_entries.Count + 1, timeProvider.GetUtcNow(), host, migrationId, vmId, eventName, detail,
                _entries.Count.ToString("x64"));
            _entries.Add(entry);
            return ValueTask.FromResult(entry);
        }
    }
}
