using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Tls;
using SecureMigration.Channel.Limits;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;
using SecureMigration.Identity;
using SecureMigration.Telemetry;
using SecureMigration.Text;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// Opens secure channels over transport pipes: <see cref="ConnectAsync(IDuplexPipe, MigrationTicket, CancellationToken)"/> on the source
/// (TLS client) and
/// <see cref="AcceptAsync(IDuplexPipe, CancellationToken)"/> on the destination (TLS server). Each performs a TLS 1.3
/// mutual-authentication handshake under the handshake timeout, then the ticket exchange (the destination waits for the ticket up
/// to the ticket wait timeout). Thread-safe; share one per endpoint so the
/// ticket replay cache sees every channel.
/// </summary>
public sealed class SecureChannelFactory
{
    /// <summary>The options with the credentials and peer policy of now; replaced whole by <see cref="Rotate"/>, read once per
    /// handshake, so a handshake runs on one set from its start to its end.</summary>
    private volatile SecureChannelOptions _options;
    private readonly Lock _rotation = new();
    private readonly ILogger _logger;
    /// <summary>How many failed handshakes of one peer (all unauthenticated peers together) are logged a minute.</summary>
    private const double FailureLinesPerMinute = 12;

    /// <summary>How many peers the failure log tracks on their own.</summary>
    private const int MaxPeersTracked = 1024;

    private readonly PeerLogLimiter _failureLog;
    private readonly TicketVerifier _verifier;

    /// <summary>Creates a factory.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="loggerFactory">Where handshake results are logged, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public SecureChannelFactory(SecureChannelOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options = options.Snapshot();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Channel");
        _failureLog = new PeerLogLimiter(FailureLinesPerMinute, MaxPeersTracked, options.TimeProvider);
        _verifier = new TicketVerifier(options.EffectiveLocalIdentity, options.MaxTicketLifetime, options.TicketClockSkew,
            new TicketReplayCache(options.ReplayCacheCapacity), options.TicketValidator, options.TimeProvider);
    }

    /// <summary>Gets the identity this end answers to in tickets.</summary>
    public string LocalIdentity => _options.EffectiveLocalIdentity;

    /// <summary>Gets the credentials new handshakes present: those given at creation or by the last <see cref="Rotate"/>.</summary>
    public ChannelCredentials Credentials => _options.ValidatedCredentials;

    /// <summary>
    /// Replaces the credentials and peer policy (allowed peers, pins, revocation lists) of every handshake that starts from now on;
    /// channels already established, and handshakes already running, keep theirs. Nothing changes unless every check passes.
    /// </summary>
    /// <param name="credentials">The new credentials, of the same kind as the current ones (certificates, PSK keyring or one shared
    /// key).</param>
    /// <param name="peerPolicy">The new peer policy; it is copied.</param>
    /// <exception cref="ArgumentException">The new credentials change this end's identity or their kind, or the new policy would accept
    /// every peer the CA vouches for where the current one names or pins its peers; the message says which. Restart the endpoint to
    /// make such a change.</exception>
    public void Rotate(ChannelCredentials credentials, PeerPolicy peerPolicy)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(peerPolicy);
        lock (_rotation)
        {
            RotateLocked(credentials, peerPolicy);
        }
    }

    private void RotateLocked(ChannelCredentials credentials, PeerPolicy peerPolicy)
    {
        SecureChannelOptions current = _options;
        SecureChannelOptions next = current.Snapshot();
        next.Credentials = credentials;
        next.PeerPolicy = peerPolicy.Snapshot();
        next.Validate();
        if (credentials.GetType() != current.ValidatedCredentials.GetType())
        {
            throw new ArgumentException($"The new credentials are {credentials.GetType().Name}, the current ones " +
                $"{current.ValidatedCredentials.GetType().Name}: a change of kind needs a restart.", nameof(credentials));
        }

        if (!string.Equals(next.EffectiveLocalIdentity, current.EffectiveLocalIdentity, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The new credentials name this host '{UntrustedText.Bound(next.EffectiveLocalIdentity, 200)}', " +
                $"but it is '{current.EffectiveLocalIdentity}' (its journal, tickets and ownership records carry that name): issue the " +
                "new certificate or key for the same name, or restart as the new host.", nameof(credentials));
        }

        if (RestrictsPeersUnder(current) && !RestrictsPeersUnder(next))
        {
            throw new ArgumentException("The new peer policy names no allowed peer and pins no key, so every peer the CA vouches for " +
                "would be served, where the current one restricts them: keep --allow-peer or --pin-spki, or restart to serve every " +
                "peer.", nameof(peerPolicy));
        }

        _options = next;
    }

    /// <summary>Gets the peer policy new handshakes check peers against (its revocation lists serve the agent's control API too).
    /// </summary>
    internal PeerPolicy PeerPolicy => _options.PeerPolicy;

    /// <summary>Gets a token of the credentials and peer policy new handshakes use: another object after every <see cref="Rotate"/>, so
    /// a channel opened under older ones can be told apart.</summary>
    internal object Generation => _options;

    /// <summary>Gets how long a destination waits for the ticket of an authenticated channel.</summary>
    internal TimeSpan TicketWaitTimeout => _options.TicketWaitTimeout;

    /// <summary>Gets the clock of every timeout of this factory's channels.</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>Gets how long the TLS handshake may take, and the ticket's exchange after it.</summary>
    internal TimeSpan HandshakeTimeout => _options.HandshakeTimeout;

    /// <summary>
    /// Sees each handshake's state as it is created, before the handshake runs. For tests only: the state holds the
    /// exporter (ticket binding) key and both traffic secrets, and nothing else can see whether they are wiped once
    /// the handshake ends. Never set in production code.
    /// </summary>
    internal Action<HandshakeState>? HandshakeStateCreated { get; set; }

    /// <summary>Gets whether the accepting end names its allowed peers or pins their keys, rather than serving every peer the CA vouches
    /// for.</summary>
    internal bool RestrictsPeers => RestrictsPeersUnder(_options);

    private static bool RestrictsPeersUnder(SecureChannelOptions options) => options.PeerPolicy.AllowedPeers.Count > 0 ||
        (options.PeerPolicy.SpkiPins.Count > 0 && options.ValidatedCredentials is X509ChannelCredentials);

    /// <summary>
    /// Connects as the migration source: authenticates the destination (it must be the ticket's destination,
    /// or <see cref="PeerPolicy.ExpectedName"/> when set), presents this end's credentials, and has the ticket accepted.
    /// </summary>
    /// <param name="transport">A connected transport; the channel reads and writes it but does not dispose it.</param>
    /// <param name="ticket">The ticket for this migration.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>The established channel.</returns>
    /// <exception cref="HandshakeFailedException">The peer could not be authenticated, refused this end, or refused the ticket.</exception>
    public async Task<SecureChannel> ConnectAsync(IDuplexPipe transport, MigrationTicket ticket,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(ticket);
        TicketCodec.EnsureEncodable(ticket);
        ClientHandshake handshake = await HandshakeAsClientAsync(transport, ticket.DestinationIdentity, cancellationToken)
            .ConfigureAwait(false);
        // One handshake timeout for both, as the destination counts it: the ticket's exchange gets what the handshake left.
        return await handshake.PresentAsync(ticket, _options.HandshakeTimeout - handshake.HandshakeTook, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Connects to <paramref name="remote"/> over TCP and runs the TLS 1.3 handshake with the destination named
    /// <paramref name="destinationIdentity"/>, without a ticket yet: the source opens the channel while its migration's first
    /// steps run, and presents the ticket once they are durable (<see cref="OpenedChannel.SendTicketAsync"/>). The destination
    /// waits for the ticket up to its ticket wait timeout (<see cref="SecureChannelOptions.TicketWaitTimeout"/>,
    /// <see cref="OpenedChannel.IsFresh"/>).
    /// </summary>
    /// <param name="remote">The destination's address.</param>
    /// <param name="destinationIdentity">The destination's identity: the peer must prove it, and the ticket must name it.</param>
    /// <param name="cancellationToken">Cancels the connection and the handshake.</param>
    /// <returns>The authenticated channel, waiting for its ticket; dispose it if it is not used.</returns>
    /// <exception cref="HandshakeFailedException">The peer could not be authenticated or is not
    /// <paramref name="destinationIdentity"/>.</exception>
    /// <exception cref="DestinationUnreachableException">The destination could not be reached.</exception>
    public async Task<OpenedChannel> OpenAsync(EndPoint remote, string destinationIdentity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentException.ThrowIfNullOrEmpty(destinationIdentity);
        long started = _options.TimeProvider.GetTimestamp();
        StreamDuplexPipe transport = await ConnectTransportAsync(remote, cancellationToken).ConfigureAwait(false);
        try
        {
            ClientHandshake handshake = await HandshakeAsClientAsync(transport, destinationIdentity, cancellationToken).ConfigureAwait(false);
            return new OpenedChannel(handshake, transport, remote, _options.TimeProvider, _options.HandshakeTimeout,
                _options.TicketWaitTimeout, started);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs the client's TLS 1.3 handshake with the destination named <paramref name="destinationIdentity"/> and checks that
    /// the peer proved that name; returns the authenticated channel, waiting for its ticket.</summary>
    private async Task<ClientHandshake> HandshakeAsClientAsync(IDuplexPipe transport, string destinationIdentity,
        CancellationToken cancellationToken)
    {
        SecureChannelOptions options = _options;
        PeerPolicy policy = ClientPolicy(options.PeerPolicy, destinationIdentity);
        if (options.ValidatedCredentials is PskKeyringCredentials keyring && keyring.KeyFor(policy.ExpectedName!) is null)
        {
            throw new HandshakeFailedException(HandshakeFailureReason.PskMismatch,
                $"This host's PSK keyring has no key for '{policy.ExpectedName}'. Add the pair with 'secmig pki psk --out DIR --identity " +
                    $"{LocalIdentity} --identity {policy.ExpectedName}' and give each host its keyring.");
        }

        HandshakeState state = NewHandshakeState();
        var crypto = new HardwareAeadTlsCrypto();
        var protocol = new TlsClientProtocol();
        var engine = new TlsEngine(protocol, transport);
        var client = new MigrationTlsClient(crypto, options.ValidatedCredentials, policy, options.TimeProvider, state);
        Activity? activity = SecureMigrationTelemetry.ActivitySource.StartActivity("secure_channel.source");
        long started = options.TimeProvider.GetTimestamp();
        try
        {
            await GuardAsync("source", options, state, activity, options.HandshakeTimeout, cancellationToken, async token =>
            {
                protocol.Connect(client);
                await engine.HandshakeAsync(token).ConfigureAwait(false);
                PeerIdentity peer = state.Peer!;
                if (!peer.IsSharedPsk && !peer.Names.Contains(destinationIdentity, StringComparer.OrdinalIgnoreCase))
                {
                    throw new HandshakeFailedException(HandshakeFailureReason.TicketRefused,
                        $"The destination is '{destinationIdentity}', but the peer authenticated as " +
                            $"[{UntrustedText.Bound(string.Join(", ", peer.Names), 300)}]; the ticket was not sent.");
                }

                return true;
            }).ConfigureAwait(false);
            RecordLayer records = OpenRecordLayer(transport, state, isClient: true);
            // The record layer has its own copies: only the ticket's binding key waits for the ticket.
            CryptographicOperations.ZeroMemory(state.ClientTrafficSecret);
            CryptographicOperations.ZeroMemory(state.ServerTrafficSecret);
            return new ClientHandshake(this, options, engine, state, records, destinationIdentity,
                options.TimeProvider.GetElapsedTime(started), activity);
        }
        catch
        {
            engine.Dispose();
            state.Dispose();
            activity?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to <paramref name="remote"/> over TCP and runs <see cref="ConnectAsync(IDuplexPipe, MigrationTicket, CancellationToken)"/>
    /// on the connection; the result owns both the channel and the socket.
    /// </summary>
    /// <param name="remote">The destination's address.</param>
    /// <param name="ticket">The ticket for this migration.</param>
    /// <param name="cancellationToken">Cancels the connection and the handshake.</param>
    /// <returns>The established channel with its connection.</returns>
    /// <exception cref="HandshakeFailedException">The peer could not be authenticated, refused this end, or refused the ticket.</exception>
    /// <exception cref="DestinationUnreachableException">The destination could not be reached; the message names the address and what to
    /// check.</exception>
    public async Task<ChannelConnection> ConnectAsync(EndPoint remote, MigrationTicket ticket,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        StreamDuplexPipe transport = await ConnectTransportAsync(remote, cancellationToken).ConfigureAwait(false);
        try
        {
            SecureChannel channel = await ConnectAsync(transport, ticket, cancellationToken).ConfigureAwait(false);
            return new ChannelConnection(channel, transport, remote, _options.TimeProvider);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<StreamDuplexPipe> ConnectTransportAsync(EndPoint remote, CancellationToken cancellationToken)
    {
        try
        {
            return await SocketTransport.ConnectPipeAsync(remote, timeout: null, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new DestinationUnreachableException(remote, e);
        }
    }

    /// <summary>
    /// Accepts as the migration destination: authenticates the source, presents this end's credentials, and
    /// checks the source's ticket. Nothing is returned to the caller, and so nothing is forwarded to a
    /// hypervisor, unless every check passed.
    /// </summary>
    /// <param name="transport">An accepted transport; the channel reads and writes it but does not dispose it.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>The established channel, with the accepted <see cref="SecureChannel.Ticket"/>.</returns>
    /// <exception cref="HandshakeFailedException">The peer could not be authenticated or its ticket was refused.</exception>
    public async Task<SecureChannel> AcceptAsync(IDuplexPipe transport, CancellationToken cancellationToken = default) =>
        (await AcceptAsync(transport, waiting: null, cancellationToken).ConfigureAwait(false)).Channel;

    /// <summary>
    /// <see cref="AcceptAsync(IDuplexPipe, CancellationToken)"/>, with the TLS handshake under the handshake timeout and the wait for
    /// the ticket under the ticket wait timeout (ADR 0030): once the source proved who it is, <paramref name="waiting"/> is asked for
    /// its place among the channels waiting (<see cref="WaitingChannels"/>), returned with the channel for the caller to give back
    /// once it took the channel; without one the channel is closed. A channel whose place is taken back before its ticket came,
    /// or whose wait ends, or whose ticket comes after this host's credentials or peer policy were reloaded, is closed cleanly
    /// with its ticket unread (close_notify, no answer): the source sends the ticket on a new connection, checked against the
    /// credentials of now. Once the ticket came, its check and answer take at most the handshake timeout.
    /// </summary>
    internal async Task<(SecureChannel Channel, IDisposable? Place)> AcceptAsync(IDuplexPipe transport,
        Func<PeerIdentity, WaitingChannels.Place?>? waiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transport);
        SecureChannelOptions options = _options;
        HandshakeState state = NewHandshakeState();
        var crypto = new HardwareAeadTlsCrypto();
        var protocol = new TlsServerProtocol();
        var engine = new TlsEngine(protocol, transport);
        var server = new MigrationTlsServer(crypto, options.ValidatedCredentials, options.PeerPolicy, options.TimeProvider, state);
        using Activity? activity = SecureMigrationTelemetry.ActivitySource.StartActivity("secure_channel.destination");
        long started = options.TimeProvider.GetTimestamp();
        try
        {
            PeerIdentity peer = await GuardAsync("destination", options, state, activity, options.HandshakeTimeout, cancellationToken,
                async token =>
                {
                    protocol.Accept(server);
                    await engine.HandshakeAsync(token).ConfigureAwait(false);
                    return state.Peer!;
                }).ConfigureAwait(false);
            TimeSpan handshakeTook = options.TimeProvider.GetElapsedTime(started);
            RecordLayer records = OpenRecordLayer(transport, state, isClient: false);
            WaitingChannels.Place? place = null;
            try
            {
                (MigrationTicket ticket, byte[] leftover, long ticketCame) = await GuardAsync("destination", options, state, activity,
                    options.TicketWaitTimeout, cancellationToken, async token =>
                    {
                        if (waiting is not null && (place = waiting(peer)) is null)
                        {
                            // Its ticket was never read: closed cleanly, the source may send it on a new connection.
                            await records.TryCloseOutputAsync(options.TimeProvider).ConfigureAwait(false);
                            throw new HandshakeFailedException(HandshakeFailureReason.TooManyHandshakes, $"'{peer.Name}' already keeps " +
                                "the most channels waiting for their tickets on this host; this one was closed once authenticated.");
                        }

                        return await ReceiveTicketAsync(options, records, state, peer, place, token).ConfigureAwait(false);
                    }).ConfigureAwait(false);
                // How long the handshake and the ticket's check took: not how long the channel waited for its ticket.
                return (Completed("destination", options, records, peer, ticket, leftover,
                    handshakeTook + options.TimeProvider.GetElapsedTime(ticketCame), activity), place);
            }
            catch
            {
                place?.Dispose();
                records.Dispose();
                throw;
            }
        }
        finally
        {
            engine.Dispose();
            state.Dispose();
        }
    }

    /// <summary>Reads the source's ticket, checks it, and answers; throws when it is refused (after telling the source why).</summary>
    private async Task<(MigrationTicket Ticket, byte[] Leftover, long Came)> ReceiveTicketAsync(SecureChannelOptions options,
        RecordLayer records, HandshakeState state, PeerIdentity peer, WaitingChannels.Place? place, CancellationToken cancellationToken)
    {
        TicketRefusal refusal;
        MigrationTicket? ticket;
        byte[] leftover;
        using (var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, place?.TakenBack ?? default))
        {
            try
            {
                (refusal, ticket, leftover) = await TicketExchange.ReceiveTicketAsync(records, state.BindingKey!, reading.Token)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The wait ended (its timeout, the listener stopping, the place taken back): nothing was read, so the source may send
                // the same ticket on a new connection.
                await records.TryCloseOutputAsync(options.TimeProvider).ConfigureAwait(false);
                if (place is { TakenBack.IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
                {
                    throw new HandshakeFailedException(HandshakeFailureReason.TooManyHandshakes, $"'{peer.Name}' (or everyone) kept the " +
                        "most channels waiting for their tickets on this host; this one, the oldest, was closed unread.");
                }

                throw;
            }
        }

        long came = options.TimeProvider.GetTimestamp();
        if (place?.TicketArrived() == false || !ReferenceEquals(options, _options))
        {
            // The place was taken back as the ticket came; or the peer was checked against credentials and a peer policy (its CRL,
            // its allowed names) since replaced: nothing it sent is acted on, the source sends it again on a new connection.
            CryptographicOperations.ZeroMemory(leftover);
            await records.TryCloseOutputAsync(options.TimeProvider).ConfigureAwait(false);
            throw new HandshakeFailedException(HandshakeFailureReason.Truncated, $"The channel from '{peer.Name}' was closed with its " +
                "ticket unread (its place was taken back, or this host's credentials or peer policy were reloaded since it was " +
                "authenticated); the source sends the ticket on a new connection.");
        }

        // Once the ticket came, its check and answer are the handshake's, under its timeout (the source waits that long).
        using var checking = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, checking.Token);
        string detail = refusal == TicketRefusal.None ? string.Empty : $"The ticket is {refusal}.";
        try
        {
            if (refusal == TicketRefusal.None)
            {
                (refusal, detail) = await _verifier.VerifyAsync(ticket!, peer, bounded.Token).ConfigureAwait(false);
            }

            if (refusal == TicketRefusal.None && !ReferenceEquals(options, _options))
            {
                // Reloaded while the ticket was checked: its nonce is spent, so the source is told to try again with a new one.
                (refusal, detail) = (TicketRefusal.Busy, "this host reloaded its credentials while it checked the ticket; try again");
            }

            await TicketExchange.SendAckAsync(records, refusal, detail, ticket?.Nonce ?? 0, state.BindingKey!,
                bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (checking.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new HandshakeFailedException(HandshakeFailureReason.Timeout, $"The check of the ticket from '{peer.Name}' took longer " +
                $"than the handshake timeout ({options.HandshakeTimeout}).");
        }

        if (refusal != TicketRefusal.None)
        {
            await records.CloseOutputAsync(cancellationToken).ConfigureAwait(false);
            throw new HandshakeFailedException(HandshakeFailureReason.TicketRefused, $"The migration ticket from '{peer.Name}' " +
                $"was refused ({refusal}): {detail}");
        }

        return (ticket!, leftover, came);
    }

    private HandshakeState NewHandshakeState()
    {
        var state = new HandshakeState();
        HandshakeStateCreated?.Invoke(state);
        return state;
    }

    /// <summary>The destination's reason for a refusal as this end shows it: bounded and escaped, since the peer wrote it.</summary>
    internal static string DestinationReason(string reason) => reason.Length == 0
        ? "it gave no reason; its log says why."
        : Text.UntrustedText.Bound(reason) + (reason.EndsWith('.') ? string.Empty : ".");

    private static RecordLayer OpenRecordLayer(IDuplexPipe transport, HandshakeState state, bool isClient)
    {
        RecordCipherSuite suite = RecordCipherSuite.FromCode(state.CipherSuite);
        byte[] clientSecret = state.ClientTrafficSecret!.ToArray();
        byte[] serverSecret = state.ServerTrafficSecret!.ToArray();
        return isClient
            ? new RecordLayer(transport, suite, writeSecret: clientSecret, readSecret: serverSecret, isClient: true)
            : new RecordLayer(transport, suite, writeSecret: serverSecret, readSecret: clientSecret, isClient: false);
    }

    private static PeerPolicy ClientPolicy(PeerPolicy configured, string destinationIdentity)
    {
        if (configured.ExpectedName is not null)
        {
            return configured;
        }

        var policy = new PeerPolicy
        {
            ExpectedName = destinationIdentity,
            AllowCommonNameFallback = configured.AllowCommonNameFallback,
            MaxChainLength = configured.MaxChainLength,
        };
        foreach (string peer in configured.AllowedPeers)
        {
            policy.AllowedPeers.Add(peer);
        }

        foreach (string pin in configured.SpkiPins)
        {
            policy.SpkiPins.Add(pin);
        }

        // Revocation holds for destinations as for sources: a revoked key must not receive a VM's memory.
        foreach (var crl in configured.RevocationLists)
        {
            policy.RevocationLists.Add(crl);
        }

        return policy;
    }

    /// <summary>Makes the channel of a handshake that passed, wipes what came with it, and logs and counts it.</summary>
    internal SecureChannel Completed(string role, SecureChannelOptions options, RecordLayer records, PeerIdentity peer, MigrationTicket ticket,
        byte[] leftover, TimeSpan took, Activity? activity)
    {
        var channel = new SecureChannel(records, peer, ticket, leftover, _logger);
        CryptographicOperations.ZeroMemory(leftover);
        Log.HandshakeCompleted(_logger, role, peer.Name, channel.CipherSuite, ticket.MigrationId, UntrustedText.Bound(ticket.VmId, 160));
        ChannelTelemetry.Handshakes.Add(1, new("role", role), new("result", "ok"));
        ChannelTelemetry.HandshakeDuration.Record(took.TotalSeconds, new KeyValuePair<string, object?>("role", role));
        activity?.SetTag("securemigration.peer", peer.Name);
        activity?.SetTag("securemigration.migration_id", ticket.MigrationId);
        return channel;
    }

    /// <summary>
    /// Runs one phase of a handshake (the TLS handshake, the ticket's exchange, or both) under <paramref name="mayTake"/>; a failure
    /// other than the caller's cancellation becomes a typed <see cref="HandshakeFailedException"/>, counted every time and
    /// logged at a bounded rate per peer, so a refused peer cannot fill a disk.
    /// </summary>
    internal async Task<T> GuardAsync<T>(string role, SecureChannelOptions options, HandshakeState state, Activity? activity,
        TimeSpan mayTake, CancellationToken cancellationToken, Func<CancellationToken, Task<T>> phase)
    {
        using var timeout = new CancellationTokenSource(mayTake > TimeSpan.Zero ? mayTake : TimeSpan.FromTicks(1), options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            return await phase(linked.Token).ConfigureAwait(false);
        }
        catch (TicketNotReadException unread)
        {
            // Not a failure either: the destination asks for a new connection; the caller may send the same ticket on it.
            ChannelTelemetry.Handshakes.Add(1, new("role", role), new("result", "unread"));
            throw new HandshakeFailedException(HandshakeFailureReason.Truncated, unread.Message) { TicketNotRead = true };
        }
        catch (ChannelNotUsedException unused)
        {
            // Not a failure: the source opened the channel ahead of a migration that did not need it (ADR 0030).
            Log.ChannelNotUsed(_logger, role, UntrustedText.Bound(state.Peer?.Name ?? "an unauthenticated peer", 300));
            ChannelTelemetry.Handshakes.Add(1, new("role", role), new("result", "unused"));
            throw new HandshakeFailedException(HandshakeFailureReason.Truncated, unused.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            HandshakeFailedException failure = TlsErrors.ToHandshakeFailure(e, state,
                TlsPeerConfiguration.IsPsk(options.ValidatedCredentials),
                timedOut: timeout.IsCancellationRequested);
            string peerName = state.Peer?.Name ?? "an unauthenticated peer";
            if (_failureLog.ShouldLog(peerName))
            {
                Log.HandshakeFailed(_logger, role, UntrustedText.Bound(peerName, 300), failure.Reason,
                    UntrustedText.Bound(failure.Message));
            }

            ChannelTelemetry.Handshakes.Add(1, new("role", role), new("result", failure.Reason.ToString()));
            activity?.SetStatus(ActivityStatusCode.Error, failure.Reason.ToString());
            throw failure;
        }
    }
}
