using System.Security.Cryptography;
using System.Text.Json;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Mvccpb;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Text;

namespace SecureMigration.Etcd;

/// <summary>
/// The ownership registry on etcd, for clusters where several orchestrators on several machines share one truth. Each
/// VM's owner and epoch are one key, signed by the owner's host key, and change only by a transaction that compares the
/// key's <c>mod_revision</c> with the one read (compare-and-swap), so of two hosts racing for a VM exactly one wins,
/// whichever orchestrator drives them. Journal heads are anchored beside the records (<see cref="IJournalAnchor"/>).
/// Reads are linearizable (etcd's default), so a host never acts on a record a quorum has moved past.
/// </summary>
/// <remarks>
/// A request that fails in flight may still have been applied. Requests are repeated while etcd answers that it is
/// unavailable (a new leader being elected), within <see cref="EtcdRegistryOptions.OperationTimeout"/>; a move that
/// finds the record already carrying its own migration, owner and epoch reports it moved, so a repeated commit cannot
/// be mistaken for a lost race. Failures to reach a quorum surface as <see cref="EtcdUnavailableException"/>, an
/// <see cref="IOException"/>, as for the file registry.
/// </remarks>
public sealed partial class EtcdOwnershipRegistry : IOwnershipRegistry, IJournalAnchor, IMigrationLeases, ICredentialRotation, IDisposable
{
    private const int MaxValueBytes = 64 * 1024;
    private const int MaxIdLength = 64;
    private const int MaxAnchorAttempts = 8;
    private const string AnchorFormat = "SecureMigration journal anchor v1";

    /// <summary>The most VMs <see cref="ListVmIdsAsync"/> returns.</summary>
    public const int MaxListedVms = 100_000;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(800);

    /// <summary>An attempt's share of the operation timeout: a member that answers nothing costs that, and the next attempt
    /// goes to the next member (the client balances requests over every endpoint).</summary>
    private const int AttemptsPerTimeout = 4;
    private static readonly TimeSpan MinAttempt = TimeSpan.FromMilliseconds(500);
    private readonly EtcdRegistryOptions _options;
    private volatile X509ChannelCredentials _signer;
    private readonly EtcdKeys _keys;
    private readonly TimeProvider _time;
    private readonly EtcdClient _client;
    private readonly EtcdTlsMaterial _tls;
    private readonly string _endpoints;
    private string? _id;
    private int _disposed;

    /// <summary>Connects to the etcd cluster <paramref name="options"/> names (lazily: the first request opens the connection).</summary>
    /// <param name="options">Endpoints and credentials; validated and copied here.</param>
    /// <param name="timeProvider">The clock that stamps changes and checks signers' certificates, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public EtcdOwnershipRegistry(EtcdRegistryOptions options, TimeProvider? timeProvider = null)
        : this(options, timeProvider, interceptors: [])
    {
    }

    /// <summary>Connects as the public constructor does, with gRPC interceptors on every call (tests lose answers there).</summary>
    internal EtcdOwnershipRegistry(EtcdRegistryOptions options, TimeProvider? timeProvider,
        Grpc.Core.Interceptors.Interceptor[] interceptors)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Snapshot();
        _signer = _options.Credentials!;
        _keys = new EtcdKeys(_options.KeyPrefix);
        _time = timeProvider ?? TimeProvider.System;
        _endpoints = string.Join(',', _options.Endpoints);
        EtcdTlsMaterial? tls = null;
        _client = new EtcdClient(string.Join(',', _options.Endpoints.Select(e => "https://" + e)),
            ssl => tls = EtcdTls.Configure(ssl, _options), configureChannelOptions: ConfigureChannel, interceptors: interceptors);
        _tls = tls ?? throw new InvalidOperationException("The etcd client did not configure TLS.");
    }

    /// <summary>
    /// The channel's settings. gRPC waits ever longer between attempts to reach a member it lost (1 s growing to 2 min by
    /// default) and fails calls at once meanwhile: after a partition heals, a host would stay cut off for minutes (recovery, in
    /// doubt, would see etcd unavailable on every try); here a lost member is tried again at least once per attempt's share of
    /// the timeout. And every repeat of a request is this registry's own (<see cref="CallAsync{T}"/>): the client library's
    /// default retry policy repeated a transaction whose member died after applying it, unseen, so a move that had been
    /// applied, and then overtaken by others, came back "not moved" (a non-linearizable history, seen in CI). Only a repeat
    /// this registry knows of is reported as an unknown outcome.
    /// </summary>
    private void ConfigureChannel(GrpcChannelOptions channel)
    {
        channel.InitialReconnectBackoff = FirstBackoff * 2;
        channel.MaxReconnectBackoff = AttemptTime;
        channel.ServiceConfig?.MethodConfigs.Clear();
    }

    private TimeSpan AttemptTime => TimeSpan.FromTicks(Math.Max(_options.OperationTimeout.Ticks / AttemptsPerTimeout, MinAttempt.Ticks));

    /// <inheritdoc />
    /// <remarks>Kept in <c>PREFIX/registry/id</c>: the first host to ask creates it, in a transaction, so every host reads the
    /// same.</remarks>
    public async ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default)
    {
        if (_id is not null)
        {
            return _id;
        }

        string candidate = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var create = new TxnRequest
        {
            Compare = { new Compare { Key = _keys.RegistryId, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = _keys.RegistryId,
                Value = ByteString.CopyFromUtf8(candidate) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = _keys.RegistryId } } },
        };
        TxnResponse response = await CallAsync("the registry id", (deadline, token) =>
            _client.TransactionAsync(create, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        string id = response.Succeeded ? candidate : FailureRead(response)?.Value.ToStringUtf8() ?? string.Empty;
        if (id.Length is 0 or > MaxIdLength || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new OwnershipRegistryException("(registry)", EtcdKeys.Describe(_keys.RegistryId),
                $"the registry id '{UntrustedText.Bound(id, 80)}' is not 1 to {MaxIdLength} lower-case hex digits");
        }

        _id = id;
        return id;
    }

    /// <inheritdoc />
    public async ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        KeyValue? kv = await ReadAsync(_keys.Vm(vmId), "the record of VM " + vmId, cancellationToken).ConfigureAwait(false);
        return kv is null ? null : Parse(vmId, kv);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="owner"/> is not this host: only the owner writes its record.</exception>
    public async ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        EnsureSigner(owner, nameof(owner));
        var record = new OwnershipRecord(vmId, owner, 1, null, _time.GetUtcNow());
        ByteString key = _keys.Vm(vmId);
        var register = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = Signed(record) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
        };
        _ = await GetIdAsync(cancellationToken).ConfigureAwait(false);
        TxnResponse response = await CallAsync("the registration of VM " + vmId, (deadline, token) =>
            _client.TransactionAsync(register, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        return response.Succeeded ? record with { Revision = response.Header.Revision } : Parse(vmId, FailureRead(response)
            ?? throw new OwnershipRegistryException(vmId, EtcdKeys.Describe(key), "it vanished while it was being registered"));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="newOwner"/> is not this host: only the owner writes its record.</exception>
    public ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default) =>
        MoveAsync(vmId, expectedEpoch, expectedOwner, expectedRevision: 0, newOwner, migrationId, cancellationToken);

    /// <inheritdoc />
    /// <remarks>The revision is the key's <c>mod_revision</c>; the transaction compares it, so nothing written since the
    /// caller's read, not even the same record put back, lets the move through.</remarks>
    /// <exception cref="ArgumentException"><paramref name="newOwner"/> is not this host: only the owner writes its record.</exception>
    public ValueTask<OwnershipMove> TryMoveAsync(OwnershipRecord expected, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return MoveAsync(expected.VmId, expected.Epoch, expected.Owner, expected.Revision, newOwner, migrationId, cancellationToken);
    }

    private async ValueTask<OwnershipMove> MoveAsync(string vmId, long expectedEpoch, string expectedOwner, long expectedRevision,
        string newOwner, Guid migrationId, CancellationToken cancellationToken)
    {
        VmIds.EnsureValid(vmId);
        ArgumentException.ThrowIfNullOrEmpty(expectedOwner);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedRevision);
        EnsureSigner(newOwner, nameof(newOwner));
        ByteString key = _keys.Vm(vmId);
        KeyValue? seen = await ReadAsync(key, "the record of VM " + vmId, cancellationToken).ConfigureAwait(false);
        if (seen is null)
        {
            return new OwnershipMove(false, null);
        }

        OwnershipRecord current = Parse(vmId, seen);
        if (current.Epoch != expectedEpoch || !string.Equals(current.Owner, expectedOwner, StringComparison.Ordinal) ||
            (expectedRevision != 0 && seen.ModRevision != expectedRevision))
        {
            return new OwnershipMove(false, current);
        }

        var next = new OwnershipRecord(vmId, newOwner, expectedEpoch + 1, migrationId, _time.GetUtcNow());
        var swap = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, ModRevision = seen.ModRevision } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = Signed(next) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
        };

        // The swap is not cancelled once sent: a commit either happens or is reported unreachable, never half-known here.
        bool repeated = false;
        TxnResponse response = await CallAsync("the move of VM " + vmId, (deadline, _) =>
            _client.TransactionAsync(swap, deadline: deadline, cancellationToken: CancellationToken.None), CancellationToken.None,
            repeating: () => repeated = true).ConfigureAwait(false);
        if (response.Succeeded)
        {
            // The transaction's revision is the key's new mod_revision: the fencing token of this move.
            return new OwnershipMove(true, next with { Revision = response.Header.Revision });
        }

        KeyValue? won = FailureRead(response);
        OwnershipRecord? after = won is null ? null : Parse(vmId, won);
        bool ours = after is not null && after.MigrationId == migrationId && after.Epoch == expectedEpoch + 1 &&
            string.Equals(after.Owner, newOwner, StringComparison.Ordinal);
        if (!ours && repeated)
        {
            // An attempt whose answer was lost may have been applied and the record moved on since: "not moved" could be false.
            throw new EtcdUnavailableException(_endpoints, "the move of VM " + vmId, new IOException("an earlier attempt, whose " +
                "answer was lost, may have been applied, and the record has moved on since; the outcome is unknown"));
        }

        return new OwnershipMove(ours, after);
    }

    /// <summary>
    /// Lists the VMs the registry knows, across the cluster: at most <see cref="MaxListedVms"/>, in key order. A key
    /// that is not a valid VM id (written by something outside SecureMigration) is left out.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The VM ids.</returns>
    public async ValueTask<IReadOnlyList<string>> ListVmIdsAsync(CancellationToken cancellationToken = default)
    {
        ByteString prefix = _keys.Vm(string.Empty);
        var list = new RangeRequest { Key = prefix, RangeEnd = EtcdKeys.PrefixEnd(prefix), KeysOnly = true, Limit = MaxListedVms };
        RangeResponse range = await CallAsync("the list of VMs", (deadline, token) =>
            _client.GetAsync(list, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        return [.. range.Kvs.Select(kv => System.Text.Encoding.UTF8.GetString(kv.Key.Span[prefix.Length..])).Where(VmIds.IsValid)];
    }

    /// <inheritdoc />
    public async ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(journal);
        ByteString key = _keys.Journal(journal);
        KeyValue? kv = await ReadAsync(key, "the journal head of " + journal, cancellationToken).ConfigureAwait(false);
        return kv is null ? null : ParseHead(journal, key, kv);
    }

    /// <inheritdoc />
    public async ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(journal);
        ArgumentNullException.ThrowIfNull(head);
        ByteString key = _keys.Journal(journal);
        // Signed by this host: an etcd writer without its key cannot wedge its recovery with a head far ahead.
        ByteString value = ByteString.CopyFrom(JsonSerializer.SerializeToUtf8Bytes(HostSignatures.Sign(AnchorFormat,
            JsonSerializer.Serialize(new AnchoredHead(journal, head.Sequence, head.Mac), OwnershipJson.Default.AnchoredHead), _signer),
            OwnershipJson.Default.SignedEnvelope));
        for (int attempt = 0; attempt < MaxAnchorAttempts; attempt++)
        {
            KeyValue? kv = await ReadAsync(key, "the journal head of " + journal, cancellationToken).ConfigureAwait(false);
            if (kv is not null && ParseHead(journal, key, kv).Sequence >= head.Sequence)
            {
                return;
            }

            Compare unchanged = kv is null
                ? new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 }
                : new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, ModRevision = kv.ModRevision };
            var anchor = new TxnRequest { Compare = { unchanged }, Success = { new RequestOp { RequestPut = new PutRequest { Key = key,
                Value = value } } } };
            TxnResponse response = await CallAsync("the journal head of " + journal, (deadline, token) =>
                _client.TransactionAsync(anchor, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return;
            }
        }

        throw new EtcdUnavailableException(_endpoints, "the journal head of " + journal,
            new IOException($"the head kept changing under {MaxAnchorAttempts} attempts"));
    }

    /// <summary>Releases this orchestrator's admission slots and closes the connection to etcd.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (Interlocked.Exchange(ref _session, null) is { } session)
        {
            session.Alive.Cancel();
            try
            {
                // Frees this orchestrator's admission slots now rather than at the end of the lease's time to live.
                _client.LeaseRevoke(new LeaseRevokeRequest { ID = session.Id }, deadline: DateTime.UtcNow.AddSeconds(2));
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                // It expires with its time to live (etcd out of reach: the channel reports its deadline as a cancellation).
            }
        }

        _client.Dispose();
        _tls.Dispose();
    }

    /// <inheritdoc />
    /// <remarks>New connections to etcd present the renewed certificate and new records are signed with its key; the members are
    /// still checked against the anchors the registry was created with.</remarks>
    public void RotateCredentials(Identity.ChannelCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var renewed = credentials as X509ChannelCredentials ?? throw new ArgumentException("etcd is reached with this host's " +
            $"certificate; {credentials.GetType().Name} cannot replace it.", nameof(credentials));
        if (!string.Equals(renewed.LocalIdentity, _signer.LocalIdentity, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The renewed certificate names '{renewed.LocalIdentity}', but this registry writes as " +
                $"'{_signer.LocalIdentity}'.", nameof(credentials));
        }

        _tls.Rotate(EtcdTls.ClientCertificate(renewed));
        _signer = renewed;
    }

    private static KeyValue? ValueOf(RangeResponse range) => range.Kvs.Count == 0 ? null : range.Kvs[0];

    /// <summary>The record a failed transaction read back, or <see langword="null"/> when the key is gone.</summary>
    /// <exception cref="EtcdUnavailableException">etcd answered without the read the transaction asked for.</exception>
    private KeyValue? FailureRead(TxnResponse response) => response.Responses.FirstOrDefault()?.ResponseRange is { } range
        ? ValueOf(range)
        : throw new EtcdUnavailableException(_endpoints, "a transaction",
            new InvalidDataException("etcd answered a failed transaction without the read it asked for"));

    private void EnsureSigner(string owner, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner, parameter);
        if (!string.Equals(owner, _signer.LocalIdentity, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Only a VM's owner writes its record, and this registry signs as '{_signer.LocalIdentity}', " +
                $"not '{UntrustedText.Bound(owner, 160)}'.", parameter);
        }
    }

    private ByteString Signed(OwnershipRecord record) => ByteString.CopyFrom(SignedOwnershipRecords.Sign(record, _signer));

    private OwnershipRecord Parse(string vmId, KeyValue kv)
    {
        string location = EtcdKeys.Describe(kv.Key);
        if (kv.Value.Length > MaxValueBytes)
        {
            throw new OwnershipRegistryException(vmId, location, $"it is {kv.Value.Length} bytes, more than a record can be " +
                $"({MaxValueBytes})");
        }

        OwnershipRecord record = SignedOwnershipRecords.Read(vmId, location, kv.Value.Span, _signer.TrustAnchors, _time.GetUtcNow());
        if (!string.Equals(record.VmId, vmId, StringComparison.Ordinal) || record.Epoch < 1 || string.IsNullOrEmpty(record.Owner))
        {
            throw new OwnershipRegistryException(vmId, location, "it describes another VM or an impossible epoch");
        }

        return record with { Revision = kv.ModRevision };
    }

    /// <summary>Reads an anchored head: signed by this very host (only a journal's own host anchors it), for this journal.</summary>
    private JournalHead ParseHead(string journal, ByteString key, KeyValue kv)
    {
        string location = EtcdKeys.Describe(key);
        if (kv.Value.Length > MaxValueBytes)
        {
            throw OwnershipRegistryException.ForJournalHead(journal, location, $"it is {kv.Value.Length} bytes, more than a journal head " +
                $"can be");
        }

        SignedEnvelope? envelope = SignedOwnershipRecords.Deserialize(journal, location, kv.Value.Span,
            OwnershipJson.Default.SignedEnvelope);
        SignatureCheck check = HostSignatures.Check(envelope, AnchorFormat, _signer.TrustAnchors, _time.GetUtcNow());
        if (check.Problem is not null || !string.Equals(check.SignerName, _signer.LocalIdentity, StringComparison.OrdinalIgnoreCase))
        {
            throw OwnershipRegistryException.ForJournalHead(journal, location, $"it is not signed by this host " +
                $"('{_signer.LocalIdentity}'): {check.Problem ?? $"it is signed by '{check.SignerName}'"}. Whoever can write etcd " +
                "wrote it; delete the key once the journal here is known to be the latest");
        }

        AnchoredHead? anchored = SignedOwnershipRecords.Deserialize(journal, location,
            System.Text.Encoding.UTF8.GetBytes(envelope!.Payload),
            OwnershipJson.Default.AnchoredHead);
        return anchored is not null && string.Equals(anchored.Journal, journal, StringComparison.Ordinal) && anchored.Sequence >= 0
            ? new JournalHead(anchored.Sequence, anchored.Mac)
            : throw OwnershipRegistryException.ForJournalHead(journal, location, "it is the head of another journal or an impossible one");
    }

    private async ValueTask<KeyValue?> ReadAsync(ByteString key, string what, CancellationToken cancellationToken)
    {
        RangeResponse range = await CallAsync(what, (deadline, token) =>
            _client.GetAsync(new RangeRequest { Key = key }, deadline: deadline, cancellationToken: token), cancellationToken)
            .ConfigureAwait(false);
        return ValueOf(range);
    }

    /// <summary>
    /// Runs one request within <see cref="EtcdRegistryOptions.OperationTimeout"/>, again after a short backoff while etcd
    /// answers that it is unavailable (a leader changing, a member down) or an attempt outlives its share of the timeout (a
    /// member cut off from its quorum answers nothing at all; the next attempt goes to the next member), since every request
    /// here is a read or a compare-and-swap that a repeat cannot apply twice; past the timeout the failure is an
    /// <see cref="EtcdUnavailableException"/>.
    /// </summary>
    private async Task<T> CallAsync<T>(string what, Func<DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken,
        Action? repeating = null)
    {
        long started = _time.GetTimestamp();
        TimeSpan attempt = AttemptTime;
        TimeSpan backoff = FirstBackoff;
        while (true)
        {
            TimeSpan left = _options.OperationTimeout - _time.GetElapsedTime(started);
            Exception failure;
            try
            {
                return await call(DateTime.UtcNow + (left < attempt ? left : attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // The channel reports its own deadline as a cancellation: this member did not answer in time.
                failure = e;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown)
            {
                // Unknown: etcd's own proposal timeout ("context deadline exceeded"), after which the request may still apply.
                failure = e;
            }
            catch (RpcException e)
            {
                throw new EtcdUnavailableException(_endpoints, what, e);
            }

            if (_time.GetElapsedTime(started) + backoff >= _options.OperationTimeout)
            {
                throw new EtcdUnavailableException(_endpoints, what, failure);
            }

            repeating?.Invoke();
            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }
}
