using System.Net;
using System.Net.Sockets;
using SecureMigration.Benchmarks.Processes;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// A pair of tunnel ends in their own processes: the benchmark sends plain bytes to the source end, which carries
/// them over mutually authenticated TLS 1.3 (AES-256-GCM) to the destination end, which forwards them to the
/// benchmark's sink. Compares <c>secmig tunnel</c> with a pair of stunnel ends and a pair of socat OPENSSL ends.
/// </summary>
internal sealed class ExternalTunnelCase : ITransportCase, IDisposable
{
    private readonly Func<string, TunnelPorts, Task<TunnelPair>> _start;
    private readonly string _files;
    private readonly TcpListener _sink = new(IPAddress.Loopback, 0);
    private TunnelPair? _pair;

    private ExternalTunnelCase(string name, Func<string, TunnelPorts, Task<TunnelPair>> start)
    {
        Name = name;
        _start = start;
        _files = Directory.CreateTempSubdirectory("secmig-bench-").FullName;
        BenchmarkPki.WriteFiles(_files);
    }

    public string Name { get; }

    public static IEnumerable<ITransportCase> Available()
    {
        if (SecmigBinary.Find() is { } secmig)
        {
            yield return new ExternalTunnelCase("secmig tunnel pair (two processes)", (files, ports) => TunnelPair.StartSecmigAsync(
                new SecmigTool(secmig, []), files, ports));
        }

        if (TunnelPair.StunnelProgram is not null)
        {
            yield return new ExternalTunnelCase("stunnel pair (two processes, OpenSSL)", TunnelPair.StartStunnelAsync);
        }

        if (TunnelPair.SocatProgram is not null)
        {
            yield return new ExternalTunnelCase("socat OPENSSL pair (two processes, OpenSSL)", TunnelPair.StartSocatAsync);
        }
    }

    public async Task MoveAsync(long bytes)
    {
        if (_pair is null)
        {
            _sink.Start();
            _pair = await _start(_files, TunnelPorts.ForwardingTo(((IPEndPoint)_sink.LocalEndpoint).Port));
        }

        Task<long> sink = SinkAsync();
        using var sender = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await sender.ConnectAsync(IPAddress.Loopback, _pair.Ports.Source);
        byte[] chunk = new byte[ThroughputRunner.WriteSize];
        for (long sent = 0; sent < bytes; sent += chunk.Length)
        {
            await sender.SendAsync(chunk);
        }

        sender.Shutdown(SocketShutdown.Send);
        long received = await sink;
        if (received != bytes)
        {
            throw new InvalidOperationException($"{Name} delivered {received} of {bytes} bytes.");
        }
    }

    public void Dispose()
    {
        _pair?.Dispose();
        _sink.Stop();
        Directory.Delete(_files, recursive: true);
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
}
