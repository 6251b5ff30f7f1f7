using System.Text;
using SecureMigration.Channel;
using SecureMigration.Text;

namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// How the wire's failures become a <see cref="MigrationAbortedException"/>: which exceptions are the channel's, and what they say.
/// </summary>
internal static class WireFailures
{
    /// <summary>Whether <paramref name="e"/> is the channel failing (or the watchdog firing), not the caller cancelling or a bug.</summary>
    public static bool IsChannelProblem(Exception e, CancellationToken cancellationToken) =>
        e is SecureChannelException or IOException or ObjectDisposedException ||
        (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>The peer's abort reason, as text that is safe to journal, log and print.</summary>
    public static string PeerReason(ReadOnlySpan<byte> payload) =>
        "the peer aborted: " + UntrustedText.Bound(Encoding.UTF8.GetString(payload));

    /// <summary>The failure of <paramref name="doing"/>: a stall names the bound of <paramref name="watchdog"/> that ran out.</summary>
    public static MigrationAbortedException Translate(Exception e, string doing, StallWatchdog watchdog) => e switch
    {
        MigrationAbortedException aborted => aborted,
        OperationCanceledException when watchdog.HasFired =>
            new MigrationAbortedException($"nothing moved for {watchdog.Armed.TotalSeconds:0.###} s while {doing}", byPeer: false, e),
        _ => new MigrationAbortedException($"the channel failed while {doing}: {e.Message}", byPeer: false, e),
    };
}
