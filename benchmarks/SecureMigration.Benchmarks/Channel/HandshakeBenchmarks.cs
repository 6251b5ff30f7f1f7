using System.Net.Security;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Channel;

/// <summary>
/// A full mutual-certificate TLS 1.3 handshake (ECDSA P-256) over loopback TCP, ticket exchange included for
/// SecureChannel, against the same handshake with SslStream. Handshakes per second = 1 / mean.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class HandshakeBenchmarks
{
    [Benchmark(Baseline = true, Description = "SslStream mutual TLS 1.3 handshake")]
    public async Task SslStreamHandshake()
    {
        (Socket client, Socket server) = await LoopbackPair.ConnectAsync();
        (SslStream clientStream, SslStream serverStream) = await SslStreamCase.HandshakeAsync(client, server);
        await clientStream.DisposeAsync();
        await serverStream.DisposeAsync();
    }

    [Benchmark(Description = "SecureChannel mutual TLS 1.3 handshake + ticket")]
    public async Task SecureChannelHandshake()
    {
        var (client, server, clientWire, serverWire) = await SecureChannelCase.OpenAsync();
        await client.DisposeAsync();
        await server.DisposeAsync();
        await clientWire.DisposeAsync();
        await serverWire.DisposeAsync();
    }
}
