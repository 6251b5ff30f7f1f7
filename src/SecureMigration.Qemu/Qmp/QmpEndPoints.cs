using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Qemu.Qmp;

/// <summary>Parses where a QEMU monitor listens, in the forms QEMU's own <c>-qmp</c> option uses.</summary>
public static class QmpEndPoints
{
    /// <summary>
    /// Parses <c>unix:PATH</c>, a bare path, or <c>tcp:HOST:PORT</c> (an IPv6 host in brackets). QMP over TCP has no
    /// authentication: a <see cref="QemuDriver"/> refuses such a monitor unless <see cref="QemuDriverOptions.AllowTcpQmp"/> is set.
    /// </summary>
    /// <param name="value">The address.</param>
    /// <returns>The end point.</returns>
    /// <exception cref="FormatException">The address is none of these forms.</exception>
    public static EndPoint Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (value.StartsWith("tcp:", StringComparison.Ordinal))
        {
            string hostPort = value[4..];
            int colon = hostPort.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) ||
                port is < 1 or > 65535)
            {
                throw new FormatException($"QMP address '{value}' is not tcp:HOST:PORT with a port from 1 to 65535.");
            }

            string host = hostPort[..colon].Trim('[', ']');
            return IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        }

        string path = value.StartsWith("unix:", StringComparison.Ordinal) ? value[5..] : value;
        int options = path.IndexOf(",server", StringComparison.Ordinal);
        path = options >= 0 ? path[..options] : path;
        if (path.Length == 0)
        {
            throw new FormatException($"QMP address '{value}' names no socket path; use unix:PATH, PATH or tcp:HOST:PORT.");
        }

        return new UnixDomainSocketEndPoint(Path.GetFullPath(path));
    }
}
