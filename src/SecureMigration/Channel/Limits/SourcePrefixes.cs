using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Channel.Limits;

/// <summary>
/// Groups source addresses into the prefixes the handshake limits count by: a /24 for IPv4 and a /64 for IPv6 by
/// default, IPv4-mapped IPv6 addresses as the IPv4 addresses they are.
/// </summary>
internal sealed class SourcePrefixes(int ipv4Length, int ipv6Length)
{
    /// <summary>The prefix <paramref name="address"/> belongs to.</summary>
    public IPNetwork Of(IPAddress address)
    {
        IPAddress source = Normalize(address);
        // IPNetwork clears the bits past the prefix.
        return new IPNetwork(source, source.AddressFamily == AddressFamily.InterNetwork ? ipv4Length : ipv6Length);
    }

    /// <summary>An IPv4-mapped IPv6 address as IPv4; any other address as it is (without an IPv6 scope id).</summary>
    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4()
        : address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes())
        : address;

    /// <summary>A network given for configuration, with an IPv4-mapped IPv6 network as the IPv4 network it stands for.</summary>
    public static IPNetwork Normalize(IPNetwork network) =>
        network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;
}
