using SecureMigration.Storage;

namespace SecureMigration.Identity;

/// <summary>
/// Rules for files that hold secrets (private keys, pre-shared keys, host keys), as ssh applies them: a secret that
/// others can read is refused, since they may already have copied it, and the message says which <c>chmod</c> fixes it.
/// </summary>
internal static class SecretFiles
{
    private const UnixFileMode OthersAccess = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Throws unless the file is owned by this process's user (or root) and readable and writable by its owner only.</summary>
    /// <exception cref="InvalidCredentialsException">Another user owns the file, or group or others may access it.</exception>
    public static void EnsureOwnerOnly(string path, string what)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return;
        }

        // A secret planted by another user (mode 0600, but theirs) is theirs, not this host's.
        if (Posix.Owner(path) is { } owner && owner != 0 && owner != Posix.EffectiveUserId())
        {
            throw new InvalidCredentialsException(path,
                $"The {what} '{path}' belongs to user {owner}, not to the user this process runs as ({Posix.EffectiveUserId()}) or root, " +
                    $"so it may not be this host's. " +
                $"Check who put it there; if it is the right one, run 'chown {Posix.EffectiveUserId()} {path}'.");
        }

        UnixFileMode mode = File.GetUnixFileMode(path);
        if ((mode & OthersAccess) != 0)
        {
            throw new InvalidCredentialsException(path,
                $"The {what} '{path}' can be read by others (mode {Convert.ToString((int)mode, 8)}), so it may be known beyond this " +
                    $"host. " +
                $"Run 'chmod 600 {path}', and replace the key if others may have copied it.");
        }
    }
}
