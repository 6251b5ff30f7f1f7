using Microsoft.Extensions.Logging;

namespace SecureMigration.Qemu;

/// <summary>The QEMU driver's log events (1401–1412); listed in docs/telemetry.md.</summary>
internal static partial class Log
{
    [LoggerMessage(1401, LogLevel.Information, "VM {VmId}: connected to QEMU {Version} at {Monitor}")]
    public static partial void Connected(ILogger logger, string vmId, Version version, string monitor);

    [LoggerMessage(1402, LogLevel.Information, "VM {VmId}: QEMU started its outgoing migration (max-bandwidth {MaxBandwidth} bytes/s)")]
    public static partial void OutgoingStarted(ILogger logger, string vmId, long maxBandwidth);

    [LoggerMessage(1403, LogLevel.Information, "VM {VmId}: QEMU's outgoing migration {Status} after {TotalTime} with {Downtime} of " +
        "downtime, {Passes} passes")]
    public static partial void OutgoingSettled(ILogger logger, string vmId, string status, TimeSpan? totalTime, TimeSpan? downtime,
        long passes);

    [LoggerMessage(1404, LogLevel.Information, "VM {VmId}: QEMU waits for the incoming migration and cannot run until 'cont'")]
    public static partial void IncomingPrepared(ILogger logger, string vmId);

    [LoggerMessage(1405, LogLevel.Information, "VM {VmId}: QEMU loaded the incoming migration; the VM is paused")]
    public static partial void IncomingLoaded(ILogger logger, string vmId);

    [LoggerMessage(1406, LogLevel.Information, "VM {VmId}: 'cont' issued; the VM runs on this host")]
    public static partial void Continued(ILogger logger, string vmId);

    [LoggerMessage(1407, LogLevel.Warning, "VM {VmId}: QEMU's outgoing migration was cancelled ('migrate_cancel')")]
    public static partial void Cancelled(ILogger logger, string vmId);

    [LoggerMessage(1408, LogLevel.Information, "VM {VmId}: QEMU was told to quit; this copy can never run again")]
    public static partial void Quit(ILogger logger, string vmId);

    [LoggerMessage(1409, LogLevel.Warning, "VM {VmId}: QEMU reports a RAM file {Path} outside the allowed memory directories " +
        "({Allowed}); it is not taken as residue and will not be overwritten. If it is really the VM's RAM, add its directory " +
            "(--memory-dir)")]
    public static partial void MemoryFileRefused(ILogger logger, string vmId, string path, string allowed);

    [LoggerMessage(1410, LogLevel.Warning, "VM {VmId}: QEMU reports a RAM file {Path} that its process does not map; it is not taken as " +
        "residue and will not be overwritten (QEMU may be compromised: it named a file that is not its RAM)")]
    public static partial void MemoryFileNotMapped(ILogger logger, string vmId, string path);

    [LoggerMessage(1411, LogLevel.Warning, "VM {VmId}: the RAM file {Path} was {Recorded} when QEMU mapped it and is {Now} now: another " +
        "file was put in its place; it is not taken as residue")]
    public static partial void MemoryFileReplaced(ILogger logger, string vmId, string path, string recorded, string now);

    [LoggerMessage(1412, LogLevel.Debug, "VM {VmId}: its QEMU's monitor could not be connected ahead of a migration ({Error}); " +
        "a migration connects again when it starts")]
    public static partial void NotConnectedAhead(ILogger logger, string vmId, string error);
}
