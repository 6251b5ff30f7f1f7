using System.Globalization;

namespace SecureMigration.Sanitization;

/// <summary>Parses and checks the extents of a target: inside it, non-empty, not overlapping; sorted on the way.</summary>
public static class ExtentList
{
    /// <summary>The most extents one wipe accepts.</summary>
    public const int MaxExtents = 1_000_000;

    /// <summary>
    /// Parses extents as text: one per line, <c>OFFSET LENGTH</c> or <c>OFFSET,LENGTH</c> in bytes (decimal, or hex
    /// with <c>0x</c>); blank lines and lines starting with <c>#</c> are skipped.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <returns>The extents, in the order given.</returns>
    /// <exception cref="FormatException">A line is not an extent; the message names it.</exception>
    public static IReadOnlyList<Extent> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var extents = new List<Extent>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] fields = line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || !TryNumber(fields[0], out long offset) || !TryNumber(fields[1], out long length))
            {
                throw new FormatException($"Line {i + 1} of the extent list is '{line}'; write OFFSET LENGTH in bytes, such as '4096 " +
                    $"65536' or '0x1000,0x10000'.");
            }

            if (extents.Count == MaxExtents)
            {
                throw new FormatException($"The extent list has more than {MaxExtents} extents; merge neighbouring ones.");
            }

            extents.Add(new Extent(offset, length));
        }

        return extents;
    }

    /// <summary>Checks extents against a target of <paramref name="size"/> bytes; returns them sorted.</summary>
    /// <param name="extents">The extents.</param>
    /// <param name="size">The target's size.</param>
    /// <returns>The extents in offset order.</returns>
    /// <exception cref="ArgumentException">An extent is empty, outside the target, or overlaps another; the message names it.</exception>
    public static IReadOnlyList<Extent> Validate(IReadOnlyList<Extent> extents, long size)
    {
        ArgumentNullException.ThrowIfNull(extents);
        Extent[] sorted = [.. extents.OrderBy(e => e.Offset)];
        for (int i = 0; i < sorted.Length; i++)
        {
            Extent e = sorted[i];
            if (e.Offset < 0 || e.Length <= 0 || e.Offset > size || e.Length > size - e.Offset)
            {
                throw new ArgumentException($"The extent at {e.Offset} of {e.Length} bytes is empty or outside the {size}-byte target; " +
                    $"nothing was written.");
            }

            if (i > 0 && sorted[i - 1].End > e.Offset)
            {
                throw new ArgumentException($"The extents at {sorted[i - 1].Offset} ({sorted[i - 1].Length} bytes) and {e.Offset} " +
                    $"({e.Length} bytes) overlap; nothing was written.");
            }
        }

        return sorted;
    }

    /// <summary>A decimal or 0x-hexadecimal count of bytes; hex is read as two's complement, so 16 digits from 8 up are refused as
    /// negative.</summary>
    private static bool TryNumber(string text, out long value) =>
        (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)) && value >= 0;
}
