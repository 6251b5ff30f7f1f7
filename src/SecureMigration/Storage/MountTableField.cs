using System.Text;

namespace SecureMigration.Storage;

/// <summary>
/// A field of the kernel's mount tables (<c>/proc/mounts</c>, <c>/proc/self/mountinfo</c>), where a space, tab, newline
/// and backslash in a path are written as octal escapes (<c>\040</c>, <c>\011</c>, <c>\012</c>, <c>\134</c>).
/// </summary>
internal static class MountTableField
{
    /// <summary>Decodes every <c>\ooo</c> escape of <paramref name="field"/>; anything else is kept as it is.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var decoded = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                decoded.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                decoded.Append(field[i]);
            }
        }

        return decoded.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
