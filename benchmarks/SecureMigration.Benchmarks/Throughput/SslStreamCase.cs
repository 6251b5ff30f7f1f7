using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>.NET SslStream (OpenSSL underneath), TLS 1.3, TLS_AES_256_GCM_SHA384, mutual certificates: the baseline.</summary>
internal sealed class SslStreamCase : ITransportCase
{
    public const string CaseName = "SslStream TLS 1.3 AES-256-GCM (baseline)";

    private static readonly X509Certificate2 ServerCertificate = Load(BenchmarkPki.Destination);
    private static readonly X509Certificate2 ClientCertificate = Load(BenchmarkPki.Source);

    public string Name => CaseName;

    public static async Task<(SslStream Client, SslStream Server)> HandshakeAsync(Socket client, Socket server)
    {
        var policy = new CipherSuitesPolicy([TlsCipherSuite.TLS_AES_256_GCM_SHA384]);
        var serverStream = new SslStream(new NetworkStream(server, ownsSocket: true));
        var clientStream = new SslStream(new NetworkStream(client, ownsSocket: true));
        Task serverAuth = serverStream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = ServerCertificate,
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls13,
            CipherSuitesPolicy = policy,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
        });
        await clientStream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "destination.bench",
            ClientCertificates = [ClientCertificate],
            EnabledSslProtocols = SslProtocols.Tls13,
            CipherSuitesPolicy = policy,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
        });
        await serverAuth;
        return (clientStream, serverStream);
    }

    public async Task MoveAsync(long bytes)
    {
        (Socket clientSocket, Socket serverSocket) = await LoopbackPair.ConnectAsync();
        (SslStream client, SslStream server) = await HandshakeAsync(clientSocket, serverSocket);
        await using (client)
        await using (server)
        {
            Task receive = Task.Run(async () =>
            {
                byte[] buffer = new byte[ThroughputRunner.WriteSize];
                while (await server.ReadAsync(buffer) > 0)
                {
                }
            });
            byte[] chunk = new byte[ThroughputRunner.WriteSize];
            for (long sent = 0; sent < bytes; sent += chunk.Length)
            {
                await client.WriteAsync(chunk);
            }

            await client.ShutdownAsync();
            await receive;
        }
    }

    private static X509Certificate2 Load(SecureMigration.Testing.Pki.IssuedCredential credential)
    {
        using var ephemeral = X509Certificate2.CreateFromPem(credential.CertificatePem, credential.PrivateKeyPem);
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }
}
