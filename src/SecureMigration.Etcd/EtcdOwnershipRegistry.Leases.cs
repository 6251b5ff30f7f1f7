using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Text;

namespace SecureMigration.Etcd;

/// <summary>Leases for migrations in flight: <c>PREFIX/migrations/ID</c>, created only when absent, bound to a lease its
/// source keeps alive.</summary>
public sealed partial class EtcdOwnershipRegistry
{
    private const int MaxInFlightBytes = 4 * 1024;

    /// <inheritdoc />
    /// <remarks>
    /// The key is created in a transaction on <c>create_revision == 0</c> with a lease of <see cref="EtcdRegistryOptions.LeaseTtl"/>
    /// that this process keeps alive until the returned lease is disposed (which revokes it, deleting the key). If the
    /// process dies, or loses etcd for longer than the time to live, etcd deletes the key itself.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="migration"/>'s source is not this host.</exception>
    public async ValueTask<MigrationLease> AcquireAsync(InFlightMigration migration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(migration);
        VmIds.EnsureValid(migration.VmId);
        EnsureSigner(migration.Source, nameof(migration));
        ByteString key = _keys.Migration(migration.VmId);
        long ttl = (long)_options.LeaseTtl.TotalSeconds;
        LeaseGrantResponse grant = await CallAsync("a lease for the migration of VM " + migration.VmId, (deadline, token) =>
            _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, deadline: deadline, cancellationToken: token),
            cancellationToken).ConfigureAwait(false);
        var take = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Lease = grant.ID, Value = ByteString.CopyFrom(
                JsonSerializer.SerializeToUtf8Bytes(migration, OwnershipJson.Default.InFlightMigration)) } } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
        };
        TxnResponse response;
        try
        {
            response = await CallAsync("the lease on the migration of VM " + migration.VmId, (deadline, _) =>
                _client.TransactionAsync(take, deadline: deadline, cancellationToken: CancellationToken.None), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch
        {
            await RevokeAsync(grant.ID).ConfigureAwait(false);
            throw;
        }

        KeyValue? held = response.Succeeded ? null : FailureRead(response);
        // A take applied with its answer lost is repeated, and then finds the key this very lease holds: it is ours.
        if (!response.Succeeded && held?.Lease != grant.ID)
        {
            await RevokeAsync(grant.ID).ConfigureAwait(false);
            return MigrationLease.HeldBy(held is null ? migration with { MigrationId = Guid.Empty } : ParseInFlight(migration.VmId, held));
        }

        var alive = new CancellationTokenSource();
        Task keepAlive = KeepAliveAsync(grant.ID, alive.Token);
        return MigrationLease.Held(migration, async () =>
        {
            await alive.CancelAsync().ConfigureAwait(false);
            await keepAlive.ConfigureAwait(false);
            alive.Dispose();
            await RevokeAsync(grant.ID).ConfigureAwait(false);
        });
    }

    /// <inheritdoc />
    /// <remarks>At most <see cref="MaxListedVms"/>; a key that is not a migration SecureMigration wrote is left out.</remarks>
    public async ValueTask<IReadOnlyList<InFlightMigration>> ListInFlightAsync(CancellationToken cancellationToken = default)
    {
        ByteString prefix = _keys.Migration(string.Empty);
        var list = new RangeRequest { Key = prefix, RangeEnd = EtcdKeys.PrefixEnd(prefix), Limit = MaxListedVms };
        RangeResponse range = await CallAsync("the migrations in flight", (deadline, token) =>
            _client.GetAsync(list, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        var migrations = new List<InFlightMigration>(range.Kvs.Count);
        foreach (KeyValue kv in range.Kvs)
        {
            string vmId = System.Text.Encoding.UTF8.GetString(kv.Key.Span[prefix.Length..]);
            if (VmIds.IsValid(vmId) && TryParseInFlight(vmId, kv) is { } migration)
            {
                migrations.Add(migration);
            }
        }

        return migrations;
    }

    private InFlightMigration ParseInFlight(string vmId, KeyValue kv) => TryParseInFlight(vmId, kv) ??
        throw new OwnershipRegistryException(vmId, EtcdKeys.Describe(kv.Key), "the migration holding the VM's lease is not one " +
            "SecureMigration wrote (too long, malformed, or for another VM); whoever wrote it can delete it");

    private static InFlightMigration? TryParseInFlight(string vmId, KeyValue kv)
    {
        if (kv.Value.Length > MaxInFlightBytes)
        {
            return null;
        }

        try
        {
            InFlightMigration? migration = JsonSerializer.Deserialize(kv.Value.Span, OwnershipJson.Default.InFlightMigration);
            return migration is not null && string.Equals(migration.VmId, vmId, StringComparison.Ordinal) &&
                migration.Source is { Length: > 0 and <= 253 } && migration.Destination is { Length: > 0 and <= 253 }
                ? migration with { Source = UntrustedText.Bound(migration.Source, 253),
                    Destination = UntrustedText.Bound(migration.Destination, 253) }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Keeps the lease alive until <paramref name="cancellationToken"/> is cancelled or etcd says it expired; a lost etcd
    /// lets it expire.</summary>
    private async Task KeepAliveAsync(long leaseId, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Returns when the stream ends: the lease expired (etcd answered a time to live of 0) or a member went away.
                await _client.LeaseKeepAlive(leaseId, cancellationToken).ConfigureAwait(false);
                if (await IsExpiredAsync(leaseId).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                return; // the registry closed
            }
            catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException or IOException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }

            // A member went away: open another stream after a pause, while the lease may still be alive.
            try
            {
                await Task.Delay(FirstBackoff, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Whether etcd says the lease is gone (expired or revoked); <see langword="false"/> when etcd cannot say.</summary>
    private async ValueTask<bool> IsExpiredAsync(long leaseId)
    {
        try
        {
            LeaseTimeToLiveResponse left = await CallAsync("a lease's time to live", (deadline, _) => _client.LeaseTimeToLiveAsync(
                new LeaseTimeToLiveRequest { ID = leaseId }, deadline: deadline, cancellationToken: CancellationToken.None),
                CancellationToken.None).ConfigureAwait(false);
            return left.TTL <= 0;
        }
        catch (Exception e) when (e is EtcdUnavailableException or ObjectDisposedException)
        {
            return e is ObjectDisposedException;
        }
    }

    /// <summary>Revokes a lease (deleting its key); on failure the lease expires with its time to live.</summary>
    private async ValueTask RevokeAsync(long leaseId)
    {
        try
        {
            await CallAsync("the release of a migration's lease", (deadline, _) => _client.LeaseRevokeAsync(
                new LeaseRevokeRequest { ID = leaseId }, deadline: deadline, cancellationToken: CancellationToken.None),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdUnavailableException or ObjectDisposedException)
        {
            // Expires by itself (the registry may be closed already).
        }
    }
}
