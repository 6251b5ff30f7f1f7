using System.Globalization;
using System.Text.RegularExpressions;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>The line <c>secmig migrate</c> and the agent's API print of QEMU's own figures:
/// <c>qemu VM status=… total-ms=… downtime-ms=… passes=… transferred-bytes=…</c>.</summary>
internal static partial class SecmigQemuLine
{
    /// <summary>QEMU's figures from the first such line in <paramref name="text"/>, or <see langword="null"/> when there is none.</summary>
    public static QemuMigrationInfo? Find(string text)
    {
        Match qemu = Line().Match(text);
        if (!qemu.Success)
        {
            return null;
        }

        long Number(string name) => long.Parse(qemu.Groups[name].Value, CultureInfo.InvariantCulture);
        return new QemuMigrationInfo(qemu.Groups["status"].Value, Number("transferred"), 0, 0, Number("passes"), 0,
            TimeSpan.FromMilliseconds(Number("total")), TimeSpan.FromMilliseconds(Number("downtime")), null);
    }

    [GeneratedRegex(@"qemu \S+ status=(?<status>\w+) total-ms=(?<total>\d+) downtime-ms=(?<downtime>\d+) passes=(?<passes>\d+) " +
        @"transferred-bytes=(?<transferred>\d+)")]
    private static partial Regex Line();
}
