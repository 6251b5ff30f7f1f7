using System.Globalization;
using System.Text;

namespace SecureMigration.Text;

/// <summary>
/// Makes text that someone else controls (a peer's abort reason, a hook's output, QEMU's error description, a ticket's
/// names) safe to journal, log and print: cut to a bounded length and escaped so it stays on one line. A peer must not
/// be able to overflow a journal record, forge a line of output (<c>result vm1 Completed</c>) or reorder what a
/// terminal shows (bidirectional overrides).
/// </summary>
internal static class UntrustedText
{
    /// <summary>The longest text kept, in characters, before the note of what was cut.</summary>
    public const int DefaultMaxLength = 512;

    /// <summary>
    /// Returns <paramref name="text"/> with every control, format and line-separator character escaped as <c>\n</c>,
    /// <c>\r</c>, <c>\t</c> or <c>\uXXXX</c>, unpaired surrogates replaced by U+FFFD, and everything past
    /// <paramref name="maxLength"/> characters (of the escaped text) replaced by a note of how much was cut.
    /// </summary>
    /// <param name="text">The text, or <see langword="null"/> (which gives an empty string).</param>
    /// <param name="maxLength">The most characters kept before the note of what was cut; at least 16.</param>
    /// <returns>The bounded, escaped text.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 16.</exception>
    public static string Bound(string? text, int maxLength = DefaultMaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 16);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (text.Length <= maxLength && IsPlain(text))
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 48);
        int index = 0;
        while (index < text.Length)
        {
            char c = text[index];
            string piece;
            int consumed = 1;
            if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            {
                piece = text.Substring(index, 2);
                consumed = 2;
            }
            else
            {
                piece = Escape(c);
            }

            if (builder.Length + piece.Length > maxLength)
            {
                break;
            }

            builder.Append(piece);
            index += consumed;
        }

        if (index < text.Length)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({text.Length - index} more characters cut)");
        }

        return builder.ToString();
    }

    private static bool IsPlain(string text)
    {
        foreach (char c in text)
        {
            if (NeedsEscape(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool NeedsEscape(char c) => c < ' ' || (c >= '\u007f' && NeedsEscapeSlow(c));

    private static bool NeedsEscapeSlow(char c) =>
        char.IsSurrogate(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format or
            UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse;

    private static string Escape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ when char.IsSurrogate(c) => "\uFFFD",
        _ when NeedsEscape(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
        _ => c.ToString(),
    };
}
