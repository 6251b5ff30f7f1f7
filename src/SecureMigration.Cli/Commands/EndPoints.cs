using System.CommandLine.Parsing;
using System.Net;

namespace SecureMigration.Cli.Commands;

internal static class EndPoints
{
    /// <summary>Parses <c>ADDRESS:PORT</c> or <c>[IPv6]:PORT</c>; a host name is resolved when connecting.</summary>
    public static EndPoint Parse(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text) is { } endPoint)
        {
            return endPoint;
        }

        result.AddError(NotAnEndPoint(text));
        return new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>Parses <c>ADDRESS:PORT</c> or <c>[IPv6]:PORT</c>, or returns <see langword="null"/>.</summary>
    public static EndPoint? TryParse(string text)
    {
        if (IPEndPoint.TryParse(text, out IPEndPoint? ip) && ip.Port != 0 && text.Contains(':', StringComparison.Ordinal))
        {
            return ip;
        }

        int colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text[(colon + 1)..], out int port) && port is > 0 and <= 65535
            ? new DnsEndPoint(text[..colon], port)
            : null;
    }

    /// <summary>What is wrong with <paramref name="text"/> as an address.</summary>
    public static string NotAnEndPoint(string text) =>
        $"'{text}' is not ADDRESS:PORT (for example 127.0.0.1:4444 or [::1]:4444).";

    /// <summary>Parses a listen address: an IP address and a port, where port 0 lets the system pick one.</summary>
    public static IPEndPoint ParseListen(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (IPEndPoint.TryParse(text, out IPEndPoint? any) && any.Port == 0 && text.EndsWith(":0", StringComparison.Ordinal))
        {
            return any;
        }

        EndPoint endPoint = Parse(result);
        if (endPoint is IPEndPoint ip)
        {
            return ip;
        }

        result.AddError("A listen address must be an IP address and port, such as 0.0.0.0:4444.");
        return new IPEndPoint(IPAddress.None, 0);
    }

    /// <summary>Parses a local listen address: <c>unix:PATH</c> for a unix socket, or an IP address and port.</summary>
    public static EndPoint ParseLocalListen(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text["unix:".Length..];
            if (path.Length == 0)
            {
                result.AddError("'unix:' needs a socket path, such as unix:/run/secmig/tunnel.sock.");
                return new IPEndPoint(IPAddress.None, 0);
            }

            return new System.Net.Sockets.UnixDomainSocketEndPoint(Path.GetFullPath(path));
        }

        return ParseListen(result);
    }
}
