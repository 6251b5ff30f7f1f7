using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.Channel;
using SecureMigration.Transport;

namespace SecureMigration.Benchmarks.Channel;

/// <summary>
/// Moves 64 MiB in 64 KiB writes over an open loopback channel: time per 64 MiB and, with the memory
/// diagnoser, the bytes allocated per 64 MiB moved (the target is none in steady state).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class TransferBenchmarks
{
    private const long Bytes = 64L << 20;
    private readonly byte[] _chunk = new byte[ThroughputRunner.WriteSize];
    private readonly byte[] _receive = new byte[ThroughputRunner.WriteSize];
    private SecureChannel _client = null!;
    private SecureChannel _server = null!;
    private StreamDuplexPipe _clientWire = null!;
    private StreamDuplexPipe _serverWire = null!;
    private SslStream _sslClient = null!;
    private SslStream _sslServer = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        (_client, _server, _clientWire, _serverWire) = await SecureChannelCase.OpenAsync();
        (Socket client, Socket server) = await LoopbackPair.ConnectAsync();
        (_sslClient, _sslServer) = await SslStreamCase.HandshakeAsync(client, server);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _clientWire.DisposeAsync();
        await _serverWire.DisposeAsync();
        await _sslClient.DisposeAsync();
        await _sslServer.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "SslStream, 64 MiB")]
    public async Task SslStreamTransfer()
    {
        Task receive = DrainSslAsync();
        for (long sent = 0; sent < Bytes; sent += _chunk.Length)
        {
            await _sslClient.WriteAsync(_chunk);
        }

        await receive;
    }

    [Benchmark(Description = "SecureChannel, 64 MiB")]
    public async Task SecureChannelTransfer()
    {
        Task receive = DrainChannelAsync();
        for (long sent = 0; sent < Bytes; sent += _chunk.Length)
        {
            await _client.Output.WriteAsync(_chunk);
        }

        await receive;
    }

    private async Task DrainSslAsync()
    {
        long received = 0;
        while (received < Bytes)
        {
            received += await _sslServer.ReadAsync(_receive);
        }
    }

    private async Task DrainChannelAsync()
    {
        long received = 0;
        while (received < Bytes)
        {
            ReadResult result = await _server.Input.ReadAsync();
            received += result.Buffer.Length;
            _server.Input.AdvanceTo(result.Buffer.End);
        }
    }
}
