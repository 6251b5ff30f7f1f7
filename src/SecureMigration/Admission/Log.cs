using Microsoft.Extensions.Logging;

namespace SecureMigration.Admission;

/// <summary>Admission's log events (event ids 1200–1299, listed in docs/telemetry.md).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Migration of VM '{VmId}' from {Source} to {Destination} " +
        "({Trigger}) denied: {Reason}; ask again in {RetryAfter}.")]
    public static partial void Denied(ILogger logger, string vmId, string source, string destination, MigrationTrigger trigger,
        AdmissionDenialReason reason, Text.ReadableDuration retryAfter);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Migration of VM '{VmId}' from {Source} to {Destination} " +
        "({Trigger}) admitted.")]
    public static partial void Admitted(ILogger logger, string vmId, string source, string destination, MigrationTrigger trigger);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "The saved admission state was not trusted: {Problem}. Starting " +
        "in the most restrictive state until {Until}.")]
    public static partial void DamagedState(ILogger logger, string problem, DateTimeOffset until);
}
