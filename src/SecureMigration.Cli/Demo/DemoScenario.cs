using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Channel.Credentials;
using SecureMigration.Channel.Tickets;
using SecureMigration.Cli.Terminal;
using SecureMigration.Pki;
using SecureMigration.Transport;

namespace SecureMigration.Cli.Demo;

/// <summary>
/// The story <c>secmig demo</c> tells on embedded defaults: a throwaway PKI, a mutually authenticated channel
/// on loopback, a simulated VM memory image moved through it and verified, and spoofing attempts refused.
/// </summary>
internal sealed class DemoScenario(ConsoleStyle style, long imageBytes)
{
    private const string SourceName = "source.demo";
    private const string DestinationName = "destination.demo";
    private const string VmId = "demo-vm";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        style.Line(style.Strong("SecureMigration demo: live migration over a mutually authenticated TLS 1.3 channel"));
        style.Line();

        style.Line(style.Strong("1. A throwaway PKI"));
        using CertificateAuthority ca = CertificateAuthority.Create("SecureMigration Demo CA");
        using CertificateAuthority rogueCa = CertificateAuthority.Create("Rogue CA");
        X509ChannelCredentials source = Credentials(ca.IssueHost(SourceName, [IPAddress.Loopback]), ca);
        X509ChannelCredentials destination = Credentials(ca.IssueHost(DestinationName, [IPAddress.Loopback]), ca);
        style.Line($"   CA 'SecureMigration Demo CA' issued {SourceName} and {DestinationName} (ECDSA P-256, serverAuth + clientAuth).");
        style.Line();

        var sourceFactory = new SecureChannelFactory(new SecureChannelOptions { Credentials = source });
        var destinationFactory = new SecureChannelFactory(new SecureChannelOptions { Credentials = destination });
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), destinationFactory);
        listener.Start();

        bool intact = await MigrateAsync(sourceFactory, listener, cancellationToken);
        style.Line();

        style.Line(style.Strong("4. Spoofing attempts"));
        bool impostorRefused = await ImpostorDestinationAsync(sourceFactory, Credentials(rogueCa.IssueHost(DestinationName, [IPAddress.Loopback]), ca), cancellationToken);
        bool rogueSourceRefused = await RogueSourceAsync(Credentials(rogueCa.IssueHost(SourceName), ca), listener.LocalEndPoint, cancellationToken);
        style.Line();

        bool thrashStopped = new ThrashScene(style).Run();
        style.Line();

        bool held = intact && impostorRefused && rogueSourceRefused && thrashStopped;
        style.Line(held
            ? style.Good("Every defense held: the image arrived intact, both impostors were refused before any VM data moved, and endless retries were stopped.")
            : style.Bad("A defense did not hold; see above."));
        return held ? ExitCodes.Success : ExitCodes.Failure;
    }

    private async Task<bool> MigrateAsync(SecureChannelFactory sourceFactory, SecureChannelListener listener, CancellationToken cancellationToken)
    {
        style.Line(style.Strong("2. A mutually authenticated channel"));
        style.Line($"   {DestinationName} listens on {listener.LocalEndPoint}.");
        await using StreamDuplexPipe transport = await ConnectAsync(listener.LocalEndPoint, cancellationToken);
        MigrationTicket ticket = MigrationTicket.Create(VmId, SourceName, DestinationName, 1, TimeSpan.FromMinutes(1));
        var clock = Stopwatch.StartNew();
        await using SecureChannel channel = await sourceFactory.ConnectAsync(transport, ticket, cancellationToken);
        await using ChannelConnection? accepted = await listener.AcceptAsync(cancellationToken);
        style.Line($"   Handshake and ticket exchange in {clock.Elapsed.TotalMilliseconds:0} ms: {channel.CipherSuite}, " +
                   $"source saw '{channel.Peer.Name}', destination saw '{accepted!.Channel.Peer.Name}'.");
        style.Line($"   Ticket for migration {ticket.MigrationId:D} of VM '{VmId}', epoch {ticket.OwnershipEpoch}, bound to this TLS session.");
        style.Line();

        style.Line(style.Strong($"3. Moving a simulated {Units.Bytes(imageBytes)} VM memory image"));
        Task<byte[]> received = HashToEndAsync(accepted.Channel.Input, cancellationToken);
        byte[] sent = await SendImageAsync(channel.Output, cancellationToken);
        byte[] arrived = await received;
        bool intact = CryptographicOperations.FixedTimeEquals(sent, arrived);
        style.Line($"   SHA-256 sent     {Convert.ToHexStringLower(sent)}");
        style.Line($"   SHA-256 received {Convert.ToHexStringLower(arrived)}");
        style.Line(intact ? style.Good("   The image arrived intact.") : style.Bad("   The image was altered on the way."));
        return intact;
    }

    private async Task<byte[]> SendImageAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var progress = new ProgressBar(style, "migrating", imageBytes);
        long sent = 0;
        while (sent < imageBytes)
        {
            Memory<byte> memory = output.GetMemory(64 * 1024);
            int count = (int)Math.Min(memory.Length, imageBytes - sent);
            Span<byte> chunk = memory.Span[..count];
            RandomNumberGenerator.Fill(chunk);
            hash.AppendData(chunk);
            output.Advance(count);
            await output.FlushAsync(cancellationToken);
            sent += count;
            progress.Report(sent);
        }

        await output.CompleteAsync();
        progress.Finish(sent);
        return hash.GetHashAndReset();
    }

    private static async Task<byte[]> HashToEndAsync(PipeReader input, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return hash.GetHashAndReset();
            }
        }
    }

    private async Task<bool> ImpostorDestinationAsync(SecureChannelFactory sourceFactory, X509ChannelCredentials impostor, CancellationToken cancellationToken)
    {
        style.Line($"   An impostor with a certificate from another CA claims to be {DestinationName}:");
        var impostorFactory = new SecureChannelFactory(new SecureChannelOptions { Credentials = impostor });
        await using var impostorListener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), impostorFactory);
        impostorListener.Start();
        await using StreamDuplexPipe transport = await ConnectAsync(impostorListener.LocalEndPoint, cancellationToken);
        try
        {
            await using SecureChannel stolen = await sourceFactory.ConnectAsync(transport,
                MigrationTicket.Create(VmId, SourceName, DestinationName, 1, TimeSpan.FromMinutes(1)), cancellationToken);
            style.Line(style.Bad("   The source trusted the impostor."));
            return false;
        }
        catch (HandshakeFailedException e)
        {
            style.Line(style.Good($"   Refused by the source ({e.Reason}): ") + e.Message);
            style.Line("   The source stopped before its ticket or any VM byte was sent.");
            return e.Reason == HandshakeFailureReason.UntrustedChain;
        }
    }

    private async Task<bool> RogueSourceAsync(X509ChannelCredentials rogue, IPEndPoint destination, CancellationToken cancellationToken)
    {
        style.Line($"   A rogue host with a certificate from another CA tries to push a VM to {DestinationName}:");
        var rogueFactory = new SecureChannelFactory(new SecureChannelOptions { Credentials = rogue });
        await using StreamDuplexPipe transport = await ConnectAsync(destination, cancellationToken);
        try
        {
            await using SecureChannel pushed = await rogueFactory.ConnectAsync(transport,
                MigrationTicket.Create("rogue-vm", SourceName, DestinationName, 1, TimeSpan.FromMinutes(1)), cancellationToken);
            style.Line(style.Bad("   The destination accepted the rogue host."));
            return false;
        }
        catch (HandshakeFailedException e)
        {
            style.Line(style.Good($"   Refused by the destination (the rogue sees {e.Reason}): ") + e.Message);
            return e.Reason == HandshakeFailureReason.RefusedByPeer;
        }
    }

    private static async Task<StreamDuplexPipe> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, cancellationToken);
        return StreamDuplexPipe.Create(socket);
    }

    private static X509ChannelCredentials Credentials(IssuedCredential host, CertificateAuthority trust) =>
        X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, trust.CertificatePem);
}
