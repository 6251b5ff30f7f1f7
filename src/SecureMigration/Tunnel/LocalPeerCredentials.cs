using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Tunnel;

/// <summary>
/// Finds which local user opened an accepted connection, on Linux: <c>SO_PEERCRED</c> for a unix socket, and for a
/// loopback TCP connection the owner of the peer's socket in <c>/proc/net/tcp</c> or <c>/proc/net/tcp6</c> (the entry
/// whose local address is our remote and whose remote address is our local, as identd finds it). A socket whose process
/// already closed it has no owner there and is unidentified; a unix socket (<c>SO_PEERCRED</c>, fixed at connect) is
/// the sturdier choice.
/// </summary>
internal static class LocalPeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Returns the peer's uid, or <see langword="null"/> when it cannot be told (not Linux, the peer already left, not a local
    /// connection).</summary>
    public static int? TryGetUid(Socket accepted)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (accepted.AddressFamily == AddressFamily.Unix)
        {
            // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            Span<byte> credentials = stackalloc byte[12];
            try
            {
                int length = accepted.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
                return length == credentials.Length ? (int)BitConverter.ToUInt32(credentials[4..]) : null;
            }
            catch (SocketException)
            {
                return null;
            }
        }

        if (accepted.LocalEndPoint is not IPEndPoint local || accepted.RemoteEndPoint is not IPEndPoint remote ||
            !IPAddress.IsLoopback(remote.Address))
        {
            return null;
        }

        // The peer's socket may be of either family (a dual-mode socket lists an IPv4 connection in tcp6, mapped), so look in both tables.
        foreach ((string table, bool v6) in new[] { ("/proc/net/tcp", false), ("/proc/net/tcp6", true) })
        {
            if (!File.Exists(table) || (!v6 && !IsIPv4(remote.Address)))
            {
                continue;
            }

            string peerLocal = Format(remote, v6);
            string peerRemote = Format(local, v6);
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[1] == peerLocal && fields[2] == peerRemote)
                {
                    // A socket its process already closed (FIN_WAIT2, TIME_WAIT: inode 0) is listed as root's: no one
                    // can be told from it, so it counts as unidentified rather than as uid 0.
                    return fields[9] != "0" && int.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture,
                        out int uid) ? uid : null;
                }
            }
        }

        return null;
    }

    private static bool IsIPv4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6;

    /// <summary>
    /// Formats an endpoint as the kernel's tcp tables do: the address (IPv4, or IPv6 with IPv4 mapped) in 32-bit words of
    /// host byte order, in hex, then the port.
    /// </summary>
    private static string Format(IPEndPoint endPoint, bool v6)
    {
        IPAddress address = v6 ? endPoint.Address.MapToIPv6() : endPoint.Address.MapToIPv4();
        byte[] bytes = address.GetAddressBytes();
        var text = new System.Text.StringBuilder((bytes.Length * 2) + 5);
        for (int word = 0; word < bytes.Length; word += 4)
        {
            text.Append(CultureInfo.InvariantCulture, $"{BitConverter.ToUInt32(bytes, word):X8}");
        }

        return text.Append(CultureInfo.InvariantCulture, $":{endPoint.Port:X4}").ToString();
    }
}
