namespace SecureMigration.Text;

/// <summary>VM ids name files and journal records, so they are kept to a safe alphabet and length.</summary>
internal static class VmIds
{
    /// <summary>The longest VM id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>Throws unless <paramref name="vmId"/> is 1–128 characters of letters, digits, '.', '_', '-' and ':', not starting with
    /// '.'.</summary>
    /// <param name="vmId">The id.</param>
    /// <param name="parameterName">The caller's parameter, for the exception.</param>
    /// <exception cref="ArgumentException">The id is empty, too long or has another character.</exception>
    public static void EnsureValid(string vmId, string parameterName = "vmId")
    {
        ArgumentException.ThrowIfNullOrEmpty(vmId, parameterName);
        if (!IsValid(vmId))
        {
            throw new ArgumentException($"The VM id '{UntrustedText.Bound(vmId, 160)}' is not allowed: use 1 to {MaxLength} ASCII " +
                $"letters, digits, '.', '_', '-' or ':', not starting with '.'.", parameterName);
        }
    }

    /// <summary>Gets whether <paramref name="vmId"/> is 1–128 characters of letters, digits, '.', '_', '-' and ':', not starting with
    /// '.'.</summary>
    /// <param name="vmId">The id, or <see langword="null"/>.</param>
    /// <returns>Whether it is allowed.</returns>
    public static bool IsValid(string? vmId) =>
        !string.IsNullOrEmpty(vmId) && vmId.Length <= MaxLength && vmId[0] != '.' && vmId.All(c => char.IsAsciiLetterOrDigit(c) ||
            c is '.' or '_' or '-' or ':');
}
