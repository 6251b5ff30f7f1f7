using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// A pair of tunnel ends in their own processes, as operators run them: the benchmark sends plain bytes to the
/// source end, which carries them over mutually authenticated TLS 1.3 (AES-256-GCM) to the destination end,
/// which forwards them to the benchmark's sink. Compares <c>secmig tunnel</c> with a pair of stunnel ends.
/// </summary>
internal sealed class ExternalTunnelCase : ITransportCase, IDisposable
{
    private readonly string _name;
    private readonly Func<TunnelPorts, string, (string Program, string[] Arguments)[]> _ends;
    private readonly string _files;
    private readonly TcpListener _sink = new(IPAddress.Loopback, 0);
    private readonly List<Process> _processes = [];
    private int _sourcePort;

    private ExternalTunnelCase(string name, Func<TunnelPorts, string, (string, string[])[]> ends)
    {
        _name = name;
        _ends = ends;
        _files = Directory.CreateTempSubdirectory("secmig-bench-").FullName;
        File.WriteAllText(Path.Combine(_files, "ca.pem"), BenchmarkPki.CaPem);
        BenchmarkPki.Source.WriteTo(_files, "source.pem", "source.key");
        BenchmarkPki.Destination.WriteTo(_files, "destination.pem", "destination.key");
    }

    public string Name => _name;

    public static IEnumerable<ITransportCase> Available()
    {
        if (SecmigBinary.Find() is { } secmig)
        {
            yield return new ExternalTunnelCase("secmig tunnel pair (two processes)", (ports, files) =>
            [
                ("dotnet", [secmig, "tunnel", "accept", "--listen", $"127.0.0.1:{ports.Middle}", "--forward", $"127.0.0.1:{ports.Sink}",
                    "--cert", Path.Combine(files, "destination.pem"), "--key", Path.Combine(files, "destination.key"), "--ca", Path.Combine(files, "ca.pem")]),
                ("dotnet", [secmig, "tunnel", "connect", "--listen", $"127.0.0.1:{ports.Source}", "--connect", $"127.0.0.1:{ports.Middle}",
                    "--peer-name", "destination.bench", "--cert", Path.Combine(files, "source.pem"), "--key", Path.Combine(files, "source.key"),
                    "--ca", Path.Combine(files, "ca.pem")]),
            ]);
        }

        if (File.Exists("/usr/bin/stunnel"))
        {
            yield return new ExternalTunnelCase("stunnel pair (two processes, OpenSSL)", (ports, files) =>
            [
                ("/usr/bin/stunnel", [WriteStunnelConfig(files, "server", $"""
                    [destination]
                    accept = 127.0.0.1:{ports.Middle}
                    connect = 127.0.0.1:{ports.Sink}
                    cert = {Path.Combine(files, "destination.pem")}
                    key = {Path.Combine(files, "destination.key")}
                    CAfile = {Path.Combine(files, "ca.pem")}
                    verifyChain = yes
                    """)]),
                ("/usr/bin/stunnel", [WriteStunnelConfig(files, "client", $"""
                    [source]
                    client = yes
                    accept = 127.0.0.1:{ports.Source}
                    connect = 127.0.0.1:{ports.Middle}
                    cert = {Path.Combine(files, "source.pem")}
                    key = {Path.Combine(files, "source.key")}
                    CAfile = {Path.Combine(files, "ca.pem")}
                    verifyChain = yes
                    checkHost = destination.bench
                    """)]),
            ]);
        }
    }

    public async Task MoveAsync(long bytes)
    {
        await EnsureStartedAsync();
        Task<long> sink = SinkAsync();
        using var sender = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await sender.ConnectAsync(IPAddress.Loopback, _sourcePort);
        byte[] chunk = new byte[ThroughputRunner.WriteSize];
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            await sender.SendAsync(chunk);
        }

        sender.Shutdown(SocketShutdown.Send);
        long received = await sink;
        if (received != bytes)
        {
            throw new InvalidOperationException($"{_name} delivered {received} of {bytes} bytes.");
        }
    }

    public void Dispose()
    {
        foreach (Process process in _processes)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }

        _sink.Stop();
        Directory.Delete(_files, recursive: true);
    }

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

    private async Task EnsureStartedAsync()
    {
        if (_processes.Count > 0)
        {
            return;
        }

        _sink.Start();
        var ports = new TunnelPorts(FreePort(), FreePort(), ((IPEndPoint)_sink.LocalEndpoint).Port);
        _sourcePort = ports.Source;
        foreach ((string program, string[] arguments) in _ends(ports, _files))
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            // Probing the ports would open tunnelled connections; wait for each end to say it is ready instead.
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Process process = Process.Start(start)!;
            DataReceivedEventHandler watch = (_, line) =>
            {
                if (line.Data is { } text && (text.Contains("secmig tunnel:", StringComparison.Ordinal) || text.Contains("Configuration successful", StringComparison.Ordinal)))
                {
                    ready.TrySetResult();
                }
            };
            process.OutputDataReceived += watch;
            process.ErrorDataReceived += watch;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _processes.Add(process);
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private async Task<long> SinkAsync()
    {
        using Socket connection = await _sink.AcceptSocketAsync();
        byte[] buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await connection.ReceiveAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private readonly record struct TunnelPorts(int Source, int Middle, int Sink);
}
