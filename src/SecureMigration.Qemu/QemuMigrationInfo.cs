using System.Text.Json;
using SecureMigration.Text;

namespace SecureMigration.Qemu;

/// <summary>What QEMU's <c>query-migrate</c> says about a migration.</summary>
/// <param name="Status">QEMU's status: <c>none</c>, <c>setup</c>, <c>active</c>, <c>device</c>, <c>completed</c>, <c>failed</c>,
/// <c>cancelling</c>, <c>cancelled</c>, …; <c>unknown</c> when QEMU's word is not a short token of <c>[a-z-]</c>.</param>
/// <param name="TransferredBytes">RAM bytes sent so far.</param>
/// <param name="RemainingBytes">RAM bytes left to send in this pass.</param>
/// <param name="TotalBytes">The guest's RAM size.</param>
/// <param name="Passes">Dirty-bitmap synchronisations so far (pre-copy passes).</param>
/// <param name="DirtyPagesPerSecond">How fast the guest dirties pages.</param>
/// <param name="TotalTime">Time since the migration started (or its total, once completed).</param>
/// <param name="Downtime">How long the VM was stopped (once completed).</param>
/// <param name="Error">QEMU's error description, when it failed: bounded to 512 characters and escaped to one line (it can
/// carry text a guest chose).</param>
public sealed record QemuMigrationInfo(
    string Status, long TransferredBytes, long RemainingBytes, long TotalBytes, long Passes, long DirtyPagesPerSecond,
    TimeSpan? TotalTime, TimeSpan? Downtime, string? Error)
{
    /// <summary>The status given for a <c>status</c> that is not a short token of lowercase letters and dashes.</summary>
    public const string UnknownStatus = "unknown";

    /// <summary>The longest status word kept; QEMU's longest (<c>postcopy-recover-setup</c>) has 22 characters.</summary>
    public const int MaxStatusLength = 32;

    /// <summary>The most characters of QEMU's error description kept, before the note of what was cut.</summary>
    public const int MaxErrorLength = UntrustedText.DefaultMaxLength;

    /// <summary>Gets whether the migration ended (completed, failed or cancelled), or never started.</summary>
    public bool IsSettled => Status is "none" or "completed" or "failed" or "cancelled";

    /// <summary>
    /// Reads the answer of <c>query-migrate</c>. QEMU may be run by a compromised guest: the status is kept only when it is
    /// a short token (else <see cref="UnknownStatus"/>) and the error description is bounded and escaped.
    /// </summary>
    /// <param name="answer">QEMU's answer.</param>
    /// <returns>The information.</returns>
    public static QemuMigrationInfo Parse(JsonElement answer)
    {
        JsonElement ram = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("ram", out JsonElement r) ? r : default;
        return new QemuMigrationInfo(
            Token(Text(answer, "status")),
            Number(ram, "transferred"),
            Number(ram, "remaining"),
            Number(ram, "total"),
            Number(ram, "dirty-sync-count"),
            Number(ram, "dirty-pages-rate"),
            Milliseconds(answer, "total-time"),
            Milliseconds(answer, "downtime"),
            Text(answer, "error-desc") is { } error ? UntrustedText.Bound(error, MaxErrorLength) : null);
    }

    /// <summary>A status word of QEMU's as it is kept: a short token of <c>[a-z-]</c>, else <see cref="UnknownStatus"/> (a
    /// guest-compromised QEMU chooses it), or "none".</summary>
    internal static string Token(string? status) =>
        status is null ? "none"
        : status.Length is > 0 and <= MaxStatusLength && status.All(c => c is (>= 'a' and <= 'z') or '-') ? status
        : UnknownStatus;

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) &&
            value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Number(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) &&
            value.TryGetInt64(out long number) && number >= 0 ? number : 0;

    private static TimeSpan? Milliseconds(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) &&
            value.TryGetInt64(out long ms) && ms >= 0
            ? TimeSpan.FromMilliseconds(ms)
            : null;
}
