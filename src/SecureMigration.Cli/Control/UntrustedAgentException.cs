namespace SecureMigration.Cli.Control;

/// <summary>
/// The agent's control socket is served by a process of another local user (the kernel's word, <c>SO_PEERCRED</c>): a
/// user who can put a socket at that path would otherwise be asked to migrate the VM and have its answers printed. Nothing
/// was asked of it (exit 3, refused).
/// </summary>
/// <param name="socket">The socket's path.</param>
/// <param name="uid">The uid serving it, when the kernel named one.</param>
internal sealed class UntrustedAgentException(string socket, int? uid) : Exception(
    $"refused: the control socket '{socket}' is served by " +
    (uid is { } user ? $"local user {user}" : "a process the kernel did not name") +
    ", neither root nor this user, so it is not your agent and nothing was asked of it. Check who listens there ('ss -xlp'), " +
    "and give the --agent path of the 'secmig agent' you run.")
{
    /// <summary>Gets the uid serving the socket, when the kernel named one.</summary>
    public int? Uid => uid;
}
