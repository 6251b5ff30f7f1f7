using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Transport;

namespace SecureMigration.Tests.Interop;

/// <summary>
/// The channel against real OpenSSL peers. OpenSSL does not speak the ticket protocol, so the test plays that
/// part: it reads the session's exporter from openssl's <c>-keymatexport</c>, builds the bound frame, and types
/// it into the openssl process. That the frame is accepted proves both ends derive the same exporter.
/// </summary>
public sealed class OpenSslInteropTests(TestPki pki) : IClassFixture<TestPki>, IDisposable
{
    private const string ExporterLabel = "EXPORTER-SecureMigration-ticket";
    private readonly TempDirectory _files = WriteFiles(pki);

    public void Dispose() => _files.Dispose();

    [RequiresProgramFact("openssl")]
    public async Task Connect_ToOpenSslServerRequiringClientCertificate_AuthenticatesAndMovesData()
    {
        int port = FreePort.Next();
        await using ExternalProcess server = ExternalProcess.Start("openssl", "s_server", "-accept", $"127.0.0.1:{port}", "-tls1_3",
            "-cert", _files.File("destination.pem"), "-key", _files.File("destination.key"), "-CAfile", _files.File("ca.pem"),
            "-Verify", "1", "-verify_return_error", "-keymatexport", ExporterLabel, "-keymatexportlen", "32", "-naccept", "1");
        await server.WaitForAsync("ACCEPT");

        MigrationTicket ticket = ChannelHarness.Ticket();
        await using StreamDuplexPipe transport = await ConnectAsync(port);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        Task<SecureChannel> connecting = factory.ConnectAsync(transport, ticket);

        byte[] bindingKey = await server.KeyingMaterialAsync();
        await server.WriteAsync(AckFrame(ticket.Nonce, bindingKey));
        await using SecureChannel channel = await connecting;
        await channel.Output.WriteAsync("hello from secmig\n"u8.ToArray());

        await server.WaitForAsync("hello from secmig");
        Assert.Equal("destination.test", channel.Peer.Name);
        Assert.Equal("TLS_AES_256_GCM_SHA384", channel.CipherSuite);
        Assert.Contains("CN = source.test", server.Output, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_FromOpenSslClientWithCertificate_AuthenticatesAndMovesData()
    {
        (TcpListener listener, int port,
            Task<SecureChannel> accepting) = StartAccepting(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        using TcpListener stopListening = listener;

        await using ExternalProcess client = ExternalProcess.Start("openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-tls1_3",
            "-cert", _files.File("source.pem"), "-key", _files.File("source.key"), "-CAfile", _files.File("ca.pem"),
            "-verify_return_error", "-verify_hostname", "destination.test", "-keymatexport", ExporterLabel, "-keymatexportlen", "32",
                "-ign_eof");
        byte[] bindingKey = await client.KeyingMaterialAsync();
        MigrationTicket ticket = ChannelHarness.Ticket();
        await client.WriteAsync(TicketFrame(ticket, bindingKey));

        await using SecureChannel channel = await accepting;
        await channel.Output.WriteAsync("hello from the destination\n"u8.ToArray());

        await client.WaitForAsync("hello from the destination");
        Assert.Equal("source.test", channel.Peer.Name);
        Assert.Equal(ticket, channel.Ticket);
        Assert.Contains("Verify return code: 0 (ok)", client.Output, StringComparison.Ordinal);
    }

    [RequiresProgramFact("openssl")]
    public async Task Connect_ToOpenSslPskServer_UsesPskDheAndMovesData()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        int port = FreePort.Next();
        await using ExternalProcess server = ExternalProcess.Start("openssl", "s_server", "-accept", $"127.0.0.1:{port}", "-tls1_3",
            "-nocert",
            "-psk", Convert.ToHexString(key), "-psk_identity", "cluster-a", "-keymatexport", ExporterLabel,
            "-keymatexportlen", "32", "-naccept", "1");
        await server.WaitForAsync("ACCEPT");

        MigrationTicket ticket = ChannelHarness.Ticket();
        await using StreamDuplexPipe transport = await ConnectAsync(port);
        var factory = new SecureChannelFactory(new SecureChannelOptions { Credentials = new PskChannelCredentials("cluster-a", key),
            LocalIdentity = "source.test" });
        Task<SecureChannel> connecting = factory.ConnectAsync(transport, ticket);

        byte[] bindingKey = await server.KeyingMaterialAsync();
        await server.WriteAsync(AckFrame(ticket.Nonce, bindingKey));
        await using SecureChannel channel = await connecting;
        await channel.Output.WriteAsync("psk hello\n"u8.ToArray());

        await server.WaitForAsync("psk hello");
        // Without -allow_no_dhe_kex OpenSSL accepts psk_dhe_ke only: the session has an ephemeral ECDHE share.
        Assert.True(channel.Peer.IsPsk);
        Assert.Equal("TLS_AES_128_GCM_SHA256", channel.CipherSuite);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_FromOpenSslPskClient_Succeeds()
    {
        byte[] key = RandomNumberGenerator.GetBytes(32);
        (TcpListener listener, int port,
            Task<SecureChannel> accepting) = StartAccepting(new SecureChannelOptions { Credentials = new PskChannelCredentials("cluster-a",
                key), LocalIdentity = "destination.test" });
        using TcpListener stopListening = listener;

        await using ExternalProcess client = ExternalProcess.Start("openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-tls1_3",
            "-psk", Convert.ToHexString(key), "-psk_identity", "cluster-a", "-keymatexport", ExporterLabel, "-keymatexportlen", "32",
                "-ign_eof");
        byte[] bindingKey = await client.KeyingMaterialAsync();
        MigrationTicket ticket = ChannelHarness.Ticket();
        await client.WriteAsync(TicketFrame(ticket, bindingKey));

        await using SecureChannel channel = await accepting;
        Assert.Equal("cluster-a", channel.Peer.Name);
    }

    [RequiresProgramFact("openssl")]
    public async Task Connect_ToTls12OnlyServer_RefusesAsDowngrade()
    {
        int port = FreePort.Next();
        await using ExternalProcess server = ExternalProcess.Start("openssl", "s_server", "-accept", $"127.0.0.1:{port}", "-tls1_2",
            "-cert", _files.File("destination.pem"), "-key", _files.File("destination.key"), "-naccept", "1");
        await server.WaitForAsync("ACCEPT");

        await using StreamDuplexPipe transport = await ConnectAsync(port);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        HandshakeFailedException error = await Assert.ThrowsAsync<HandshakeFailedException>(() => factory.ConnectAsync(transport,
            ChannelHarness.Ticket()));

        Assert.Equal(HandshakeFailureReason.DowngradeAttempt, error.Reason);
    }

    [RequiresProgramFact("openssl")]
    public async Task Accept_FromTls12OnlyClient_RefusesAsDowngrade()
    {
        (TcpListener listener, int port,
            Task<SecureChannel> accepting) = StartAccepting(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        using TcpListener stopListening = listener;

        await using ExternalProcess client = ExternalProcess.Start("openssl", "s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2",
            "-cert", _files.File("source.pem"), "-key", _files.File("source.key"));
        HandshakeFailedException error = await Assert.ThrowsAsync<HandshakeFailedException>(() => accepting);

        Assert.Equal(HandshakeFailureReason.DowngradeAttempt, error.Reason);
        Assert.NotEqual(0, await client.WaitForExitAsync());
    }

    [RequiresProgramFact("openssl")]
    public void FromPemFiles_KeysAsOpenSslWritesThem_LoadAndMatch()
    {
        foreach (string algorithm in new[] { "EC:prime256v1", "EC:secp384r1", "ED25519", "RSA:2048" })
        {
            foreach (bool traditional in new[] { false, true })
            {
                if (traditional && algorithm == "ED25519")
                {
                    continue; // Ed25519 keys exist only in PKCS#8.
                }

                string name = $"{algorithm.Replace(':', '-')}{(traditional ? "-trad" : string.Empty)}";
                string keyPath = _files.File($"{name}.key");
                string certPath = _files.File($"{name}.pem");
                OpenSsl.SelfSigned(algorithm, traditional, keyPath, certPath, "keytest.local");

                var credentials = X509ChannelCredentials.FromPemFiles(certPath, keyPath, certPath);
                Assert.Equal("keytest.local", credentials.LocalIdentity);
            }
        }
    }

    [RequiresProgramFact("openssl")]
    public async Task ConnectAccept_Ed25519ChainMadeByOpenSsl_Succeeds()
    {
        OpenSsl.CaAndHost("ED25519", _files.Path, "ed-ca", "ed-source.test");
        OpenSsl.CaAndHost("ED25519", _files.Path, "ed-ca2", "ed-destination.test");
        File.WriteAllText(_files.File("ed-bundle.pem"),
            File.ReadAllText(_files.File("ed-ca.pem")) + File.ReadAllText(_files.File("ed-ca2.pem")));
        var source = new SecureChannelFactory(ChannelHarness.Options(X509ChannelCredentials.FromPemFiles(
            _files.File("ed-source.test.pem"), _files.File("ed-source.test.key"), _files.File("ed-bundle.pem"))));
        var destination = new SecureChannelFactory(ChannelHarness.Options(X509ChannelCredentials.FromPemFiles(
            _files.File("ed-destination.test.pem"), _files.File("ed-destination.test.key"), _files.File("ed-bundle.pem"))));
        var pair = new DuplexPair();

        var (client, server) = await ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server,
            ChannelHarness.Ticket(destination: "ed-destination.test", source: "ed-source.test"));

        Assert.Equal("ed-destination.test", client.Channel?.Peer.Name);
        Assert.Equal("ed-source.test", server.Channel?.Peer.Name);
    }

    [RequiresProgramFact("openssl")]
    public void Verify_CertificatesFromTheBuiltInCa_AreAcceptedByOpenSsl()
    {
        string output = OpenSsl.Run("verify", "-CAfile", _files.File("ca.pem"), "-purpose", "sslserver", _files.File("destination.pem"));
        Assert.Contains("OK", output, StringComparison.Ordinal);
        output = OpenSsl.Run("verify", "-CAfile", _files.File("ca.pem"), "-purpose", "sslclient", _files.File("source.pem"));
        Assert.Contains("OK", output, StringComparison.Ordinal);
    }

    private static TempDirectory WriteFiles(TestPki pki)
    {
        var files = new TempDirectory();
        File.WriteAllText(files.File("ca.pem"), pki.Ca.CertificatePem);
        pki.Source.WriteTo(files.Path, "source.pem", "source.key");
        pki.Destination.WriteTo(files.Path, "destination.pem", "destination.key");
        return files;
    }

    private static async Task<StreamDuplexPipe> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return StreamDuplexPipe.Create(socket);
    }

    private static (TcpListener Listener, int Port, Task<SecureChannel> Accepting) StartAccepting(SecureChannelOptions options)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return (listener, ((IPEndPoint)listener.LocalEndpoint).Port, AcceptAsync(listener, new SecureChannelFactory(options)));
    }

    private static async Task<SecureChannel> AcceptAsync(TcpListener listener, SecureChannelFactory factory)
    {
        Socket socket = await listener.AcceptSocketAsync();
        return await factory.AcceptAsync(StreamDuplexPipe.Create(socket));
    }

    private static byte[] AckFrame(UInt128 nonce, byte[] bindingKey)
    {
        byte[] frame = new byte[3 + TicketCodec.MaxAckLength];
        frame[0] = 2;
        int length = TicketCodec.EncodeAck(TicketRefusal.None, nonce, string.Empty, bindingKey, frame.AsSpan(3));
        frame[2] = (byte)length;
        return frame[..(3 + length)];
    }

    private static byte[] TicketFrame(MigrationTicket ticket, byte[] bindingKey)
    {
        byte[] frame = new byte[3 + TicketCodec.MaxTicketLength];
        int length = TicketCodec.Encode(ticket, bindingKey, frame.AsSpan(3));
        frame[0] = 1;
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        return frame[..(3 + length)];
    }
}
