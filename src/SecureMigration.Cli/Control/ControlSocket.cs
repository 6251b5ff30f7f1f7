using System.Net.Sockets;
using System.Text;
using SecureMigration.Storage;

namespace SecureMigration.Cli.Control;

/// <summary>
/// The path of the agent's control socket: checked before Kestrel binds it and restricted to the agent's user after.
/// Nothing but a stale socket is ever removed there: a symlink, a file or a directory at the path is refused, so a local
/// user cannot make the agent delete something by planting a link. Its directory must be owned by root or the agent's
/// user and writable by no one else, so nobody else can put a link where the socket is between its bind and its chmod.
/// </summary>
internal static class ControlSocket
{
    /// <summary>The longest path a unix socket address holds on Linux (108 bytes with its terminating zero).</summary>
    public const int MaxPathBytes = 107;

    /// <summary>The socket's file name in the agent's work directory, when <c>--control</c> does not name one.</summary>
    public const string DefaultName = "control.sock";

    /// <summary>Makes <paramref name="path"/> ready to bind: refuses a path too long for a socket, a directory others may
    /// write or that another user owns, anything there but a socket, and a socket another process still serves; removes a
    /// stale one.</summary>
    /// <param name="path">The full path.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="ArgumentException">The path cannot be a socket, or something else is there.</exception>
    /// <exception cref="UnsafeControlDirectoryException">Another user owns the directory, or others may write it.</exception>
    /// <exception cref="StateInUseException">Another process serves the socket.</exception>
    public static async Task PrepareAsync(string path, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw new ArgumentException($"The control socket '{path}' is longer than the {MaxPathBytes} bytes a unix socket's " +
                "path can have; give a shorter --control path.");
        }

        EnsureSafeDirectory(path);
        var existing = new FileInfo(path);
        if (existing.LinkTarget is null && !existing.Exists && !Directory.Exists(path))
        {
            return;
        }

        if (existing.LinkTarget is not null || Posix.Stat(path) is not { IsSocket: true })
        {
            throw new ArgumentException($"'{path}' exists and is not a socket (a file, a directory or a symbolic link): the " +
                "agent removes only a stale control socket there. Remove it yourself, or give another --control path.");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path); // nobody listens: left by an agent that died
            return;
        }
        catch (SocketException e)
        {
            // A full backlog or a refused permission is no proof the socket is stale: it is not removed on such an answer.
            throw new StateInUseException($"Could not tell whether another process serves the control socket '{path}' ({e.Message}); " +
                "it is left as it is. Stop the agent that serves it, or give this agent another --control path.");
        }

        throw new StateInUseException($"Another process serves the control socket '{path}' (another secmig agent?). Stop it, or give " +
            "this agent another --control path.");
    }

    /// <summary>
    /// Refuses a directory owned by another user than root or this one, or that group or others may write; and the same of
    /// every directory above it (links resolved), except that those may be sticky and world-writable as <c>/tmp</c> is: there
    /// nobody else can rename or remove what this user owns, while in a plainly writable ancestor anyone could move the
    /// socket's directory aside and put their own in its place. A directory reached through a symbolic link is refused: the
    /// checks would see the link's target of the moment, and the bind and chmod, by path, whatever it points to later.
    /// </summary>
    private static void EnsureSafeDirectory(string path)
    {
        const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        string directory = Path.GetDirectoryName(path) ?? "/";
        if (Posix.RealPath(directory) is { } real && real != directory)
        {
            throw new ArgumentException($"The control socket '{path}' would be in '{directory}', which is reached through a symbolic " +
                $"link (it is '{real}'): the agent binds its socket only on a path whose every directory it checked. Give --control " +
                $"{Path.Combine(real, Path.GetFileName(path))}.");
        }
        if (Posix.Stat(directory, followLink: true) is { } parent &&
            ((parent.Owner != 0 && parent.Owner != Posix.EffectiveUserId()) || (parent.Permissions & OthersWrite) != 0))
        {
            throw new UnsafeControlDirectoryException(path, directory, parent.Owner, parent.Permissions);
        }

        for (string? above = Path.GetDirectoryName(directory); above is not null;
             above = Path.GetDirectoryName(above))
        {
            if (Posix.Stat(above, followLink: true) is { } ancestor &&
                ((ancestor.Owner != 0 && ancestor.Owner != Posix.EffectiveUserId()) ||
                    ((ancestor.Permissions & OthersWrite) != 0 && (ancestor.Permissions & UnixFileMode.StickyBit) == 0)))
            {
                throw new UnsafeControlDirectoryException(path, above, ancestor.Owner, ancestor.Permissions);
            }
        }
    }

    /// <summary>Lets only the agent's user (and root) connect: read and write for the owner alone.</summary>
    /// <param name="path">The bound socket.</param>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
