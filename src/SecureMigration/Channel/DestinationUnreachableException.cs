using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Channel;

/// <summary>The destination's address could not be reached: its name does not resolve, nothing listens there, or the network
/// fails.</summary>
public sealed class DestinationUnreachableException : MigrationException
{
    /// <summary>Initializes the exception from the socket's failure, naming the address and what to check.</summary>
    /// <param name="remote">The address that was dialled.</param>
    /// <param name="failure">The socket's failure.</param>
    public DestinationUnreachableException(EndPoint remote, SocketException failure)
        : base(Describe(remote, failure), failure)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Remote = remote.ToString() ?? string.Empty;
        SocketError = failure.SocketErrorCode;
    }

    /// <summary>Gets the address that was dialled.</summary>
    public string Remote { get; }

    /// <summary>Gets the socket's error.</summary>
    public SocketError SocketError { get; }

    private static string Describe(EndPoint remote, SocketException failure)
    {
        string address = remote is DnsEndPoint dns ? $"{dns.Host}:{dns.Port}" : remote.ToString() ?? "the destination";
        string host = remote is DnsEndPoint named ? named.Host : address;
        return failure.SocketErrorCode switch
        {
            SocketError.HostNotFound or SocketError.NoData =>
                $"The destination name '{host}' does not resolve ({failure.Message}). --to is an address this host can reach (a name in " +
                    $"DNS or " +
                "/etc/hosts, or an IP address); --peer-name is the name in the destination's certificate, which need not resolve.",
            SocketError.ConnectionRefused =>
                $"Nothing accepts connections at {address} ({failure.Message}). Is 'secmig agent' running there, listening on that port?",
            SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable =>
                $"{address} cannot be reached ({failure.Message}). Check the address and the network between the hosts (routes, " +
                    $"firewalls).",
            _ => $"The connection to {address} failed ({failure.Message}).",
        };
    }
}
