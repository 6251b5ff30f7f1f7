using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel;
using SecureMigration.Identity;
using SecureMigration.Telemetry;
using SecureMigration.Text;

namespace SecureMigration.Cli.Control;

/// <summary>
/// The control API over TCP for orchestrators on other machines (<c>--control-listen</c>): TLS 1.3 with the agent's own certificate,
/// and a client certificate required, chained to the agent's CA, not revoked by its CRLs, and naming one of
/// <c>--control-allow</c>. Every host of the cluster holds a certificate of the same CA, so the allow-list is what keeps another host
/// from moving this one's VMs. Both follow a credential reload. A refused client costs a rate-limited log line; its connections are
/// capped so they never take the slots the local socket needs.
/// </summary>
/// <param name="endPoint">Where it listens.</param>
/// <param name="allowed">The names of the orchestrators allowed in.</param>
/// <param name="factory">The agent's channel factory: its credentials and revocation lists of now.</param>
/// <param name="time">The clock certificates are checked by.</param>
internal sealed class RemoteControl(IPEndPoint endPoint, IReadOnlyList<string> allowed, SecureChannelFactory factory, TimeProvider time)
{
    /// <summary>How many TCP connections may be open at once; the server's limit leaves the rest to the local socket.</summary>
    public const int MaxConnections = 32;

    private readonly Lock _gate = new();
    private readonly PeerLogLimiter _refusals = new(12, 256, time);
    private X509ChannelCredentials? _presentedFor;
    private X509Certificate2? _presented;
    private int _connections;
    private ListenOptions? _listen;

    public IPEndPoint EndPoint => endPoint;

    /// <summary>Gets where it listens once bound (port 0 resolved).</summary>
    public EndPoint Bound => _listen?.EndPoint ?? endPoint;

    /// <summary>Gets the names of the orchestrators allowed in.</summary>
    public IReadOnlyList<string> Allowed => allowed;

    /// <summary>Configures <paramref name="listen"/>: the connection cap, then TLS with the client certificate checked.</summary>
    public void Configure(ListenOptions listen, ILogger logger)
    {
        _listen = listen;
        listen.Use(next => async connection =>
        {
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                Refused(logger, connection.RemoteEndPoint, $"more than {MaxConnections} control connections are open");
                connection.Abort();
                return;
            }

            try
            {
                await next(connection).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        });
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => Presented(),
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            SslProtocols = SslProtocols.Tls13,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            CheckCertificateRevocation = false, // the agent's own CRLs are checked below; nothing is fetched
            ClientCertificateValidation = (certificate, chain, _) => Admits(certificate, chain, logger),
        });
    }

    /// <summary>The agent's certificate of now, converted once per set of credentials.</summary>
    private X509Certificate2 Presented()
    {
        var credentials = (X509ChannelCredentials)factory.Credentials;
        lock (_gate)
        {
            if (!ReferenceEquals(credentials, _presentedFor))
            {
                // The certificate replaced may still serve a handshake under way; the collector frees it.
                _presented = credentials.ToDotNetCertificate("the control API's TLS");
                _presentedFor = credentials;
            }

            return _presented!;
        }
    }

    private bool Admits(X509Certificate2 certificate, X509Chain? chain, ILogger logger)
    {
        if (factory.Credentials is not X509ChannelCredentials credentials)
        {
            return false;
        }

        var policy = new PeerPolicy();
        foreach (string name in allowed)
        {
            policy.AllowedPeers.Add(name);
        }

        foreach (CertificateRevocationList list in factory.PeerPolicy.RevocationLists)
        {
            policy.RevocationLists.Add(list);
        }

        // The leaf and whatever intermediates the client sent; trust comes from the agent's CA bundle alone.
        IEnumerable<X509Certificate2> sent = chain is null ? [] : chain.ChainElements.Skip(1).Take(policy.MaxChainLength)
            .Select(element => element.Certificate);
        Org.BouncyCastle.X509.X509Certificate[] presented = [new(certificate.RawData), .. sent.Select(
            intermediate => new Org.BouncyCastle.X509.X509Certificate(intermediate.RawData))];
        try
        {
            CertificateChainValidator.Validate(presented, credentials.TrustAnchors, policy, peerIsServer: false, time.GetUtcNow());
            return true;
        }
        catch (CertificateRefusedException e)
        {
            Refused(logger, null, e.Message);
            return false;
        }
    }

    private void Refused(ILogger logger, EndPoint? peer, string why)
    {
        if (_refusals.ShouldLog(peer?.ToString() ?? "a TLS client"))
        {
            logger.LogWarning("Control connection refused{Peer}: {Reason}", peer is null ? string.Empty : $" from {peer}",
                UntrustedText.Bound(why));
        }
    }
}
