namespace SecureMigration.Audit;

/// <summary>
/// Where the coordinator records what happened to migrations on this host. <see cref="AuditLog"/> (a MAC-chained,
/// fsynced file) is the default; another sink must write each entry durably before it returns.
/// </summary>
public interface IAuditSink
{
    /// <summary>Appends an entry durably.</summary>
    /// <param name="migrationId">The migration, if any.</param>
    /// <param name="vmId">The VM, if any.</param>
    /// <param name="eventName">What happened.</param>
    /// <param name="detail">More about it, if anything; never a secret.</param>
    /// <param name="cancellationToken">Cancels the wait for the sink.</param>
    /// <returns>The entry as written.</returns>
    ValueTask<AuditEntry> AppendAsync(Guid? migrationId, string? vmId, string eventName, string? detail = null,
        CancellationToken cancellationToken = default);
}
