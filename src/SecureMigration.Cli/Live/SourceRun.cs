using System.Globalization;
using System.Net;
using SecureMigration.Coordination;
using SecureMigration.Hosting;
using SecureMigration.Qemu;

namespace SecureMigration.Cli.Live;

/// <summary>One source migration as 'secmig migrate' runs it, in its own process or in the agent for its control API: the lines
/// it prints, its exit code and its outcome are the same either way.</summary>
internal static class SourceRun
{
    /// <summary>Migrates <paramref name="vmId"/> (registered to this host if the registry does not know it yet).</summary>
    /// <param name="host">This host.</param>
    /// <param name="vmId">The VM, served by this host's QEMU driver.</param>
    /// <param name="destination">The destination agent's address.</param>
    /// <param name="peerName">The destination's identity.</param>
    /// <param name="retries">How many times a failed attempt is tried again.</param>
    /// <param name="say">Writes a line for the operator.</param>
    /// <param name="display">Shows phases and progress.</param>
    /// <param name="warm">The agent's warm channels (this migration takes the one kept for its destination, and one is opened once
    /// it completed), or <see langword="null"/>.</param>
    /// <param name="whenInDoubt">What the operator does when the migration is left in doubt (the end of a sentence).</param>
    /// <param name="cancellationToken">Stops the migration; it rolls back.</param>
    /// <returns>How it ended.</returns>
    public static async Task<MigrateOutcome> RunAsync(LiveHost host, string vmId, EndPoint destination, string peerName, int retries,
        Action<string> say, IProgress<MigrationProgress> display, WarmChannels? warm, string whenInDoubt, CancellationToken cancellationToken)
    {
        // The handshake runs while the migration's first steps do; its ticket follows once they are durable.
        await using var early = new EarlyChannel(host.Factory, destination, peerName, warm?.Take(destination, peerName),
            cancellationToken);
        await host.RegisteredVms.EnsureAsync(vmId, cancellationToken);
        try
        {
            MigrationAgent agent = host.CreateAgent(new MigrationAgentOptions { MaxRetries = retries });
            agent.Retrying += (_, retry) => say(retry.IsBackoff
                ? $"backoff {retry.VmId} {retry.Wait.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} {retry.Reason}"
                : $"retry {retry.VmId} {retry.Attempt}/{retry.MaxRetries} after: {retry.Reason}");
            (MigrationResult result, int retried) = await agent.MigrateAsync(vmId, peerName,
                early.ConnectAsync, display, cancellationToken);
            if (result.Status == MigrationStatus.Completed)
            {
                // The next migration to this destination, if it comes soon, finds its channel open.
                warm?.Open(destination, peerName);
            }

            say($"result {result.VmId} {result.Status} {result.Reason}".TrimEnd());
            QemuMigrationInfo? qemu = host.Driver.LastOutgoingMigration(vmId);
            if (qemu is not null)
            {
                say(string.Create(CultureInfo.InvariantCulture,
                    $"qemu {vmId} status={qemu.Status} total-ms={qemu.TotalTime?.TotalMilliseconds ?? -1:0} " +
                        $"downtime-ms={qemu.Downtime?.TotalMilliseconds ?? -1:0} passes={qemu.Passes} " +
                            $"transferred-bytes={qemu.TransferredBytes}"));
            }

            int exitCode = result.Status switch
            {
                MigrationStatus.Completed => ExitCodes.Success,
                _ when cancellationToken.IsCancellationRequested => ExitCodes.Interrupted,
                MigrationStatus.Refused when retried == 0 => ExitCodes.Refused,
                _ when result.IsPermanent => ExitCodes.Refused,
                _ => ExitCodes.Failure,
            };
            return new MigrateOutcome(result.VmId, result.MigrationId, result.Status.ToString(), result.Reason, result.Bytes, retried,
                exitCode, qemu);
        }
        catch (MigrationInDoubtException e)
        {
            say($"result {vmId} InDoubt {e.Message}. The VM stays paused here and nothing is destroyed: {whenInDoubt}");
            return new MigrateOutcome(vmId, e.MigrationId, "InDoubt", e.Message, 0, 0, ExitCodes.InDoubt, null);
        }
    }
}
