using SecureMigration.Channel;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The TLS 1.3 handshake, as the destination (server: the input is the client's flight) or as the source (client:
/// the input is the server's flight), through the public <see cref="SecureChannelFactory"/> and the engine that
/// drives BouncyCastle. Input: <c>MODE SIZE FLIGHT</c>; MODE's low bit picks PSK credentials over certificates,
/// FLIGHT arrives cut every SIZE bytes (0: at once) and then the transport ends. Invariants: only
/// <see cref="HandshakeFailedException"/>; never a channel (the fuzzer holds no key of this cluster); bounded allocation.
/// </summary>
internal sealed class HandshakeTarget(bool server) : FuzzTarget
{
    

    public override string Name => server ? "handshake-server" : "handshake-client";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        bool psk = (fields.Byte() & 1) == 1;
        byte size = fields.Byte();
        byte[] flight = fields.Rest.ToArray();
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 8 << 20, perInputByte: 256);
        try
        {
            var transport = new FuzzTransport(flight.Chunk(size == 0 ? Math.Max(1, flight.Length) : size));
            Handshake(psk, transport).DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new InvariantViolationException("a handshake with a peer that holds no key of the cluster succeeded");
        }
        catch (HandshakeFailedException)
        {
            // The documented refusal.
        }

        budget.Check("The handshake");
    }

    private SecureChannel Handshake(bool psk, FuzzTransport transport)
    {
        FuzzCluster cluster = FuzzCluster.Instance;
        return server
            ? cluster.Destination(psk).AcceptAsync(transport).GetAwaiter().GetResult()
            : cluster.Source(psk).ConnectAsync(transport, cluster.Ticket).GetAwaiter().GetResult();
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        foreach (bool psk in new[] { false, true })
        {
            // A real client's first flight, then the real server's answer to it.
            FuzzCluster cluster = FuzzCluster.Instance;
            var toServer = new FuzzTransport([]);
            Fail(() => cluster.Source(psk).ConnectAsync(toServer, cluster.Ticket));
            byte[] clientHello = toServer.Sent();
            var toClient = new FuzzTransport([clientHello]);
            Fail(() => cluster.Destination(psk).AcceptAsync(toClient));
            byte[] flight = server ? clientHello : toClient.Sent();
            string kind = psk ? "psk" : "x509";
            yield return ($"{kind}-whole", [(byte)(psk ? 1 : 0), 0, .. flight]);
            yield return ($"{kind}-split", [(byte)(psk ? 1 : 0), 100, .. flight]);
        }
    }

    private static void Fail(Func<Task<SecureChannel>> handshake)
    {
        try
        {
            handshake().GetAwaiter().GetResult().DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new InvariantViolationException("a seed handshake without a peer succeeded");
        }
        catch (HandshakeFailedException)
        {
            // Expected: the transport ends after the flight.
        }
    }
}
