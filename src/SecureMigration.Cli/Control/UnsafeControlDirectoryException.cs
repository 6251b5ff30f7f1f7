using System.Globalization;

namespace SecureMigration.Cli.Control;

/// <summary>
/// The directory of the agent's control socket belongs to another user, or group or others may write it: whoever can
/// write there can swap the socket for a symbolic link between its bind and its <c>chmod</c> (which follows links), or
/// serve a socket of their own in its place. Nothing was bound (exit 2).
/// </summary>
/// <param name="socket">The control socket's path.</param>
/// <param name="directory">Its directory.</param>
/// <param name="owner">The directory's owner.</param>
/// <param name="mode">The directory's permission bits.</param>
internal sealed class UnsafeControlDirectoryException(string socket, string directory, uint owner, UnixFileMode mode)
    : ArgumentException($"The control socket '{socket}' would be in '{directory}', which is owned by user {owner} with mode " +
        $"{Convert.ToString((int)mode, 8).PadLeft(4, '0')}: it must be owned by root or this user " +
        $"({Storage.Posix.EffectiveUserId().ToString(CultureInfo.InvariantCulture)}) and writable by no group or other user, or they " +
        $"could replace the socket. Give a --control path in such a directory (e.g. WORK, or /run/secmig), or run 'chmod go-w " +
        $"{directory}' if it is yours.");
