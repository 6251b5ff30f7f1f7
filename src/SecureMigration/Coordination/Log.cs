using Microsoft.Extensions.Logging;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination;

/// <summary>The coordinator's log events (1301–1309); listed in docs/telemetry.md.</summary>
internal static partial class Log
{
    [LoggerMessage(1301, LogLevel.Information, "Migration {MigrationId} of VM {VmId} ({Role}) entered {Phase}{Reason}")]
    private static partial void PhaseCore(ILogger logger, Guid migrationId, string vmId, MigrationRole role, MigrationPhase phase,
        string reason);

    public static void Phase(ILogger logger, Guid migrationId, string vmId, MigrationRole role, MigrationPhase phase, string? reason) =>
        PhaseCore(logger, migrationId, vmId, role, phase, reason is null ? string.Empty : ": " + reason);

    [LoggerMessage(1302, LogLevel.Warning, "Migration {MigrationId} of VM {VmId} ({Role}) was refused: {Reason}")]
    public static partial void Refused(ILogger logger, Guid migrationId, string vmId, MigrationRole role, string reason);

    [LoggerMessage(1303, LogLevel.Error, "Migration {MigrationId} of VM {VmId}: the journal could not record {Phase}; going on, since " +
        "the step is idempotent: {Problem}")]
    public static partial void JournalUnavailable(ILogger logger, Guid migrationId, string vmId, MigrationPhase phase, string problem);

    [LoggerMessage(1304, LogLevel.Error, "The audit log could not record {Event}: {Problem}")]
    public static partial void AuditUnavailable(ILogger logger, string @event, string problem);

    [LoggerMessage(1305, LogLevel.Warning, "Recovery: migration {MigrationId} of VM {VmId} ({Role}) went from {From} to {To}: {Decision}")]
    public static partial void Recovered(ILogger logger, Guid migrationId, string vmId, MigrationRole role, MigrationPhase from,
        MigrationPhase to, string decision);

    [LoggerMessage(1307, LogLevel.Warning, "The journal's head could not be anchored in the registry (it is anchored again at the next " +
        "checkpoint): {Problem}")]
    public static partial void AnchorUnavailable(ILogger logger, string problem);

    [LoggerMessage(1306, LogLevel.Warning, "Migration {MigrationId} of VM {VmId}: the ticket of peer '{Peer}' was refused before " +
        "anything was done: {Reason}")]
    public static partial void TicketRefused(ILogger logger, Guid migrationId, string vmId, string peer, string reason);
}
