using System.Net;
using System.Net.Sockets;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>The ports of a tunnel pair: plain bytes enter at <see cref="Source"/>, cross TLS to <see cref="Middle"/>, and leave to
/// <see cref="Sink"/>.</summary>
internal readonly record struct TunnelPorts(int Source, int Middle, int Sink)
{
    /// <summary>Picks two free loopback ports for a pair that forwards to <paramref name="sink"/>.</summary>
    public static TunnelPorts ForwardingTo(int sink) => new(FreePort(), FreePort(), sink);

    /// <summary>Returns a loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

/// <summary>
/// A pair of tunnel ends in their own processes, as operators run them, with the benchmark credentials (see
/// <see cref="BenchmarkPki.WriteFiles"/>): mutually authenticated TLS 1.3 with AES-256-GCM between them.
/// </summary>
internal sealed class TunnelPair : IDisposable
{
    private readonly List<BackgroundProcess> _ends = [];

    private TunnelPair(TunnelPorts ports) => Ports = ports;

    public TunnelPorts Ports { get; }

    /// <summary>Gets the process ids of both ends.</summary>
    public IReadOnlyList<int> ProcessIds => [.. _ends.Select(end => end.Id)];

    /// <summary>Starts a pair of <c>secmig tunnel</c> ends.</summary>
    public static async Task<TunnelPair> StartSecmigAsync(SecmigTool secmig, string files, TunnelPorts ports)
    {
        var pair = new TunnelPair(ports);
        await pair.StartSecmigEndAsync(secmig, ["tunnel", "accept", "--listen", $"127.0.0.1:{ports.Middle}", "--forward",
            $"127.0.0.1:{ports.Sink}",
            "--allow-peer", BenchmarkPki.SourceName, .. BenchmarkPki.Arguments(files, "destination")]);
        await pair.StartSecmigEndAsync(secmig, ["tunnel", "connect", "--listen", $"127.0.0.1:{ports.Source}", "--connect",
            $"127.0.0.1:{ports.Middle}",
            "--peer-name", BenchmarkPki.DestinationName, .. BenchmarkPki.Arguments(files, "source")]);
        return pair;
    }

    /// <summary>Starts a pair of stunnel ends (OpenSSL), verifying each other's chain and the destination's name.</summary>
    public static async Task<TunnelPair> StartStunnelAsync(string files, TunnelPorts ports)
    {
        var pair = new TunnelPair(ports);
        await pair.StartEndAsync(Stunnel, [WriteStunnelConfig(files, "server", $"""
            [destination]
            accept = 127.0.0.1:{ports.Middle}
            connect = 127.0.0.1:{ports.Sink}
            cert = {Path.Combine(files, "destination.pem")}
            key = {Path.Combine(files, "destination.key")}
            CAfile = {Path.Combine(files, "ca.pem")}
            verifyChain = yes
            """)]);
        await pair.StartEndAsync(Stunnel, [WriteStunnelConfig(files, "client", $"""
            [source]
            client = yes
            accept = 127.0.0.1:{ports.Source}
            connect = 127.0.0.1:{ports.Middle}
            cert = {Path.Combine(files, "source.pem")}
            key = {Path.Combine(files, "source.key")}
            CAfile = {Path.Combine(files, "ca.pem")}
            verifyChain = yes
            checkHost = {BenchmarkPki.DestinationName}
            """)]);
        return pair;
    }

    /// <summary>
    /// Starts a pair of <c>socat</c> OPENSSL ends (the issue's other baseline), TLS 1.3 only, each verifying the other's
    /// chain and the source checking the destination's name, with 64 KiB buffers like the benchmark's writes.
    /// </summary>
    public static async Task<TunnelPair> StartSocatAsync(string files, TunnelPorts ports)
    {
        string Tls(string host) =>
            $"cert={Path.Combine(files, host + ".pem")},key={Path.Combine(files, host + ".key")},cafile={Path.Combine(files, "ca.pem")}," +
            "verify=1,openssl-min-proto-version=TLS1.3";
        var pair = new TunnelPair(ports);
        await pair.StartEndAsync(Socat, ["-d", "-d", "-b", "65536",
            $"OPENSSL-LISTEN:{ports.Middle},bind=127.0.0.1,reuseaddr,fork,{Tls("destination")}", $"TCP:127.0.0.1:{ports.Sink}"]);
        await pair.StartEndAsync(Socat, ["-d", "-d", "-b", "65536", $"TCP-LISTEN:{ports.Source},bind=127.0.0.1,reuseaddr,fork",
            $"OPENSSL:127.0.0.1:{ports.Middle},{Tls("source")},commonname={BenchmarkPki.DestinationName}"]);
        return pair;
    }

    /// <summary>Gets socat's path, or <see langword="null"/> when it is not installed.</summary>
    public static string? SocatProgram => File.Exists(Socat) ? Socat : null;

    /// <summary>Gets stunnel's path, or <see langword="null"/> when it is not installed.</summary>
    public static string? StunnelProgram => File.Exists(Stunnel) ? Stunnel : null;

    private const string Stunnel = "/usr/bin/stunnel";

    private const string Socat = "/usr/bin/socat";

    public void Dispose() => _ends.ForEach(end => end.Dispose());

    private static string WriteStunnelConfig(string files, string name, string service)
    {
        string path = Path.Combine(files, $"stunnel-{name}.conf");
        File.WriteAllText(path, $"""
            foreground = yes
            pid =
            sslVersion = TLSv1.3
            ciphersuites = TLS_AES_256_GCM_SHA384
            verify = 2
            {service}
            """);
        return path;
    }

    private Task StartSecmigEndAsync(SecmigTool secmig, string[] arguments)
    {
        (string program, List<string> command) = secmig.Command(arguments);
        return StartEndAsync(program, [.. command]);
    }

    private async Task StartEndAsync(string program, string[] arguments)
    {
        (BackgroundProcess end, _) = await BackgroundProcess.StartAsync(program, arguments, "secmig tunnel:", "Configuration successful",
            "listening on");
        _ends.Add(end);
    }
}
