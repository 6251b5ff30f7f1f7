using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SecureMigration.Qemu;

/// <summary>
/// The QEMU process behind a monitor connection, found with SO_PEERCRED and identified by its pid and start time (so a
/// reused pid is not mistaken for it), so the driver can tell a QEMU that is exiting from one that is gone.
/// </summary>
internal sealed class QemuProcess
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    private readonly string _startTime;

    private QemuProcess(int pid, string startTime)
    {
        Pid = pid;
        _startTime = startTime;
    }

    public int Pid { get; }

    /// <summary>Gets whether the process still runs (not exited, not a zombie).</summary>
    public bool IsAlive => Read(Pid) is { } stat && stat.StartTime == _startTime && stat.State is not ('Z' or 'X');

    /// <summary>Finds the process at the other end of a connected unix socket, on Linux; <see langword="null"/> elsewhere.</summary>
    public static QemuProcess? PeerOf(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.AddressFamily != AddressFamily.Unix)
        {
            return null;
        }

        Span<byte> credentials = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) != credentials.Length)
        {
            return null;
        }

        int pid = MemoryMarshal.Read<int>(credentials);
        return pid > 0 && Read(pid) is { } stat ? new QemuProcess(pid, stat.StartTime) : null;
    }

    /// <summary>
    /// Gets whether the process maps the file <paramref name="identity"/> names into its memory (<c>/proc/PID/maps</c>):
    /// QEMU maps a <c>memory-backend-file</c>'s file, so a RAM file it reports but does not map is not its RAM.
    /// </summary>
    public bool Maps(SecureMigration.Storage.FileIdentity identity)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/" + Pid.ToString(CultureInfo.InvariantCulture) + "/maps"))
            {
                // address perms offset dev(major:minor, hex) inode(decimal) [path]
                string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 5 && fields[3].Split(':') is [string major, string minor] &&
                    uint.TryParse(major, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint devMajor) &&
                        devMajor == identity.DeviceMajor &&
                    uint.TryParse(minor, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint devMinor) &&
                        devMinor == identity.DeviceMinor &&
                    ulong.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) && inode == identity.Inode)
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        return false;
    }

    /// <summary>Waits until the process is gone, looking every few milliseconds (a process that is not our child gives no
    /// notice).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken)
    {
        long start = clock.GetTimestamp();
        while (IsAlive)
        {
            if (clock.GetElapsedTime(start) >= timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), clock, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static (char State, string StartTime)? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ... starttime(22nd field) ..."; comm may hold spaces and parentheses, so split after the last ')'.
        string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 ? (fields[0][0], fields[19]) : null;
    }
}
