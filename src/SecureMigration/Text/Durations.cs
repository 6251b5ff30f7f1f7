using System.Globalization;

namespace SecureMigration.Text;

/// <summary>
/// Durations as people read them: "4 min 59 s", "2.3 s", "1 h 5 min", never "0:04:59.9876543". They round up, so a
/// "retry after" is never shorter than the wait it names.
/// </summary>
internal static class Durations
{
    public static string Describe(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        return duration.TotalSeconds switch
        {
            < 10 => string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(duration.TotalSeconds * 10) / 10:0.#} s"),
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(duration.TotalSeconds):0} s"),
            < 3600 => Pair(Math.Ceiling(duration.TotalSeconds), 60, "min", "s"),
            < 86400 => Pair(Math.Ceiling(duration.TotalMinutes), 60, "h", "min"),
            _ => Pair(Math.Ceiling(duration.TotalHours), 24, "d", "h"),
        };
    }

    private static string Pair(double small, int perLarge, string largeUnit, string smallUnit)
    {
        long total = (long)small;
        long large = total / perLarge;
        long rest = total % perLarge;
        return rest == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{large} {largeUnit}")
            : string.Create(CultureInfo.InvariantCulture, $"{large} {largeUnit} {rest} {smallUnit}");
    }
}
