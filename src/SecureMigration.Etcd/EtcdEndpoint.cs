using System.Globalization;

namespace SecureMigration.Etcd;

/// <summary>One etcd member's client address.</summary>
/// <param name="Host">A DNS name or an IP address, which the member's certificate must name.</param>
/// <param name="Port">The client port.</param>
public sealed record EtcdEndpoint(string Host, int Port)
{
    /// <summary>etcd's client port.</summary>
    public const int DefaultPort = 2379;

    /// <summary>Reads <c>host</c>, <c>host:port</c> or <c>[v6]:port</c>.</summary>
    /// <param name="text">The endpoint.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="FormatException">It is not an endpoint.</exception>
    public static EtcdEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string bounded = Text.UntrustedText.Bound(text, 80);
        if (text.Length is 0 or > 255 || text.EndsWith(':') || text.IndexOfAny(['#', '?', '/', '@']) >= 0 ||
            !Uri.TryCreate("https://" + text, UriKind.Absolute, out Uri? uri) || uri.HostNameType is UriHostNameType.Unknown)
        {
            throw new FormatException($"'{bounded}' is not an etcd endpoint: give host:port, for example 10.0.0.5:2379.");
        }

        int port = text.EndsWith(']') || !text.Contains(':', StringComparison.Ordinal) ? DefaultPort : uri.Port;
        return new EtcdEndpoint(uri.IdnHost.Trim('[', ']'), port);
    }

    /// <summary>Gets the endpoint as <c>host:port</c> (an IPv6 address in brackets).</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
