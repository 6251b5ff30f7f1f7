using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Cli.Commands;

/// <summary>
/// Turns what the operator configured into the listener's known sources (ADR 0011): each <c>--known-source</c>
/// (an address, a network such as 10.1.2.0/24, or a host name resolved once at start), and the address of each
/// <c>--allow-peer</c> name that is one or resolves as a host name.
/// </summary>
internal static class KnownSources
{
    /// <summary>How long start-up waits for host names to resolve, all together.</summary>
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Resolves <paramref name="configured"/> (each must yield a network: a bad or unresolvable value is an error) and
    /// <paramref name="peerNames"/> (a name that does not resolve is an identity only, and is skipped).
    /// </summary>
    /// <exception cref="ArgumentException">A <c>--known-source</c> is malformed or does not resolve.</exception>
    public static async Task<IReadOnlyList<IPNetwork>> ResolveAsync(IEnumerable<string> configured, IEnumerable<string> peerNames,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ResolveTimeout);
        Task<IPNetwork[]>[] explicitly = [.. configured.Select(value => ResolveAsync(value, required: true, timeout.Token))];
        Task<IPNetwork[]>[] peers = [.. peerNames.Select(name => ResolveAsync(name, required: false, timeout.Token))];
        IPNetwork[][] resolved = await Task.WhenAll([.. explicitly, .. peers]);
        return [.. resolved.SelectMany(networks => networks).Distinct()];
    }

    private static async Task<IPNetwork[]> ResolveAsync(string value, bool required, CancellationToken cancellationToken)
    {
        int slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            return required ? [ParseNetwork(value, slash)] : [];
        }

        if (IPAddress.TryParse(value, out IPAddress? address))
        {
            return [Single(address)];
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(value, cancellationToken);
            return [.. addresses.Select(Single)];
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException)
        {
            return required
                ? throw new ArgumentException($"--known-source '{value}' is not an address, a network (ADDRESS/LENGTH) " +
                    $"or a host name that resolves ({e.Message}).")
                : [];
        }
    }

    private static IPNetwork ParseNetwork(string value, int slash)
    {
        if (!IPAddress.TryParse(value[..slash], out IPAddress? address) ||
            !int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int length) ||
            length > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            throw new ArgumentException(
                $"--known-source '{value}' is not a network: write ADDRESS/LENGTH, for example 10.1.2.0/24 or fd00:1::/64.");
        }

        // IPNetwork clears the bits past the prefix; an operator who set some likely meant another network.
        var network = new IPNetwork(address, length);
        if (!network.BaseAddress.Equals(address))
        {
            throw new ArgumentException($"--known-source '{value}' has bits set past its /{length}; write the network's first address.");
        }

        return network;
    }

    private static IPNetwork Single(IPAddress address) => new(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
}
