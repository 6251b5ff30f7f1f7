using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mvccpb;
using SecureMigration.Admission;
using SecureMigration.Text;

namespace SecureMigration.Etcd;

/// <summary>
/// Cluster admission on etcd. Concurrency slots are keys created only when absent (<c>admission/slots/all/N</c>,
/// <c>.../out/HOST/N</c>, <c>.../in/HOST/N</c>), the three of a request in one transaction, bound to this process's session
/// lease, so two orchestrators never exceed a cap and a dead one's slots go with its lease. The global retry budget counts
/// first attempts and retries per orchestrator (<c>admission/budget/...</c>) on a lease as long as the budget's window.
/// Dwell and ping-pong marks (<c>admission/dwell/VM</c>, <c>admission/pingpong/VM</c>) live on leases as long as their
/// windows. Every window is etcd's clock, not a host's: a host whose clock jumps cannot reopen one.
/// </summary>
public sealed partial class EtcdOwnershipRegistry : IClusterAdmission
{
    private const int MaxAdmissionAttempts = 16;
    private const int MaxUnsettledTakes = 64;
    private readonly string _orchestrator = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _sessionGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentQueue<UnsettledTake> _unsettled = new();
    private Session? _session;

    /// <inheritdoc />
    public async ValueTask<ClusterAdmissionDecision> TryAdmitAsync(MigrationRequest request, AdmissionOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        VmIds.EnsureValid(request.VmId);
        await SettleUnknownTakesAsync().ConfigureAwait(false);
        string all = _keys.Admission + "slots/all/";
        // Host names are compared as DNS compares them: 'DST.example' shares the caps of 'dst.example'.
        string outbound = _keys.Admission + "slots/out/" + EtcdKeys.Segment(request.SourceHost.ToLowerInvariant()) + "/";
        string inbound = _keys.Admission + "slots/in/" + EtcdKeys.Segment(request.DestinationHost.ToLowerInvariant()) + "/";
        string budget = _keys.Admission + "budget/";
        string firstKey = budget + "first/" + _orchestrator;
        string retryKey = budget + "retries/" + _orchestrator;
        ByteString dwell = ByteString.CopyFromUtf8(_keys.Admission + "dwell/" + request.VmId);
        ByteString pingPong = ByteString.CopyFromUtf8(_keys.Admission + "pingpong/" + request.VmId);
        bool isRetry = request.Trigger == MigrationTrigger.Retry;
        for (int attempt = 0; attempt < MaxAdmissionAttempts; attempt++)
        {
            // One round trip reads everything the decision needs, at one revision.
            var read = new TxnRequest { Success = { Range(all), Range(outbound), Range(inbound), Range(budget, keysOnly: false),
                new RequestOp { RequestRange = new RangeRequest { Key = dwell } },
                new RequestOp { RequestRange = new RangeRequest { Key = pingPong } } } };
            TxnResponse seen = await CallAsync("the cluster's admission state", (deadline, token) =>
                _client.TransactionAsync(read, deadline: deadline, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            RangeResponse[] ranges = [.. seen.Responses.Select(r => r.ResponseRange)];
            if (await DenyByHistoryAsync(request, options, ranges[4], ranges[5], cancellationToken).ConfigureAwait(false) is { } history)
            {
                return history;
            }

            if (DenyByCaps(request, options, ranges[0], ranges[1], ranges[2]) is { } caps)
            {
                return caps;
            }

            long firsts = Sum(ranges[3], budget + "first/");
            long retries = Sum(ranges[3], budget + "retries/");
            if (isRetry && retries + 1 > options.GlobalRetryBudget.MaxRetriesPerWindow(firsts))
            {
                return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.RetryBudgetExhausted,
                    options.GlobalRetryBudget.TimeToLive, "all hosts, every orchestrator", number: 2));
            }

            KeyValue? counter = ranges[3].Kvs.FirstOrDefault(kv => kv.Key.ToStringUtf8() == (isRetry ? retryKey : firstKey));
            string[] slots = [Free(all, ranges[0], options.MaxConcurrentMigrations), Free(outbound, ranges[1], options.MaxOutboundPerHost),
                Free(inbound, ranges[2], options.MaxInboundPerHost)];
            if (await TryTakeAsync(request, slots, isRetry ? retryKey : firstKey, counter, options, cancellationToken)
                .ConfigureAwait(false) is { } holder)
            {
                return ClusterAdmissionDecision.Admit(outcome => ReleaseAsync(request, slots, holder, outcome, options));
            }
        }

        return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.ClusterCapReached, TimeSpan.FromSeconds(1),
            number: options.MaxConcurrentMigrations));
    }

    private static RequestOp Range(string prefix, bool keysOnly = true)
    {
        ByteString key = ByteString.CopyFromUtf8(prefix);
        return new RequestOp { RequestRange = new RangeRequest { Key = key, RangeEnd = EtcdKeys.PrefixEnd(key), KeysOnly = keysOnly } };
    }

    private async ValueTask<ClusterAdmissionDecision?> DenyByHistoryAsync(MigrationRequest request, AdmissionOptions options,
        RangeResponse dwell, RangeResponse pingPong, CancellationToken cancellationToken)
    {
        if (request.Trigger is not (MigrationTrigger.Manual or MigrationTrigger.Evacuation) && dwell.Kvs.Count > 0)
        {
            return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.DwellTime,
                await RemainingAsync(dwell.Kvs[0], options.MinDwellTime, cancellationToken).ConfigureAwait(false), request.VmId));
        }

        if (request.Trigger == MigrationTrigger.Automatic && pingPong.Kvs.Count > 0 &&
            string.Equals(pingPong.Kvs[0].Value.ToStringUtf8(), request.DestinationHost, StringComparison.OrdinalIgnoreCase))
        {
            return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.PingPong,
                await RemainingAsync(pingPong.Kvs[0], options.PingPongWindow, cancellationToken).ConfigureAwait(false), request.VmId,
                request.DestinationHost));
        }

        return null;
    }

    private static ClusterAdmissionDecision? DenyByCaps(MigrationRequest request, AdmissionOptions options, RangeResponse all,
        RangeResponse outbound, RangeResponse inbound)
    {
        if (all.Count >= options.MaxConcurrentMigrations)
        {
            return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.ClusterCapReached, TimeSpan.Zero,
                number: options.MaxConcurrentMigrations));
        }

        if (outbound.Count >= options.MaxOutboundPerHost)
        {
            return ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.OutboundCapReached, TimeSpan.Zero,
                request.SourceHost, number: options.MaxOutboundPerHost));
        }

        return inbound.Count >= options.MaxInboundPerHost
            ? ClusterAdmissionDecision.Deny(AdmissionDecision.Deny(AdmissionDenialReason.InboundCapReached, TimeSpan.Zero,
                request.DestinationHost, number: options.MaxInboundPerHost))
            : null;
    }

    /// <summary>How long a mark's lease has left (etcd's clock), or the whole window when etcd cannot say.</summary>
    private async ValueTask<TimeSpan> RemainingAsync(KeyValue mark, TimeSpan window, CancellationToken cancellationToken)
    {
        if (mark.Lease == 0)
        {
            return window; // a mark without a lease was not written here
        }

        LeaseTimeToLiveResponse left = await CallAsync("the time a mark has left", (deadline, token) => _client.LeaseTimeToLiveAsync(
            new LeaseTimeToLiveRequest { ID = mark.Lease }, deadline: deadline, cancellationToken: token), cancellationToken)
            .ConfigureAwait(false);
        return left.TTL > 0 ? TimeSpan.FromSeconds(left.TTL) : window;
    }

    /// <summary>A slot number below <paramref name="cap"/> not taken under <paramref name="prefix"/>, chosen at random so
    /// orchestrators asking at once rarely reach for the same one (the transaction would then make all but one ask again).</summary>
    private static string Free(string prefix, RangeResponse taken, int cap)
    {
        var used = taken.Kvs.Select(kv => kv.Key.ToStringUtf8()[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        string[] free = [.. Enumerable.Range(0, cap).Select(n => n.ToString(CultureInfo.InvariantCulture)).Where(n => !used.Contains(n))];
        return prefix + free[Random.Shared.Next(free.Length)];
    }

    private static long Sum(RangeResponse counters, string prefix) => counters.Kvs
        .Where(kv => kv.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal)).Sum(Count);

    /// <summary>A counter's value; one that is not a small decimal (written by hand) counts as the most a window can hold. At most
    /// nine digits each, so the sum of any number of counters etcd can return stays far from overflow.</summary>
    private static long Count(KeyValue counter) =>
        counter.Value.Length <= 9 && long.TryParse(counter.Value.ToStringUtf8(), NumberStyles.None, CultureInfo.InvariantCulture,
            out long n) ? n : int.MaxValue;

    /// <summary>Takes the three slots and counts the attempt in one transaction: returns the value the slots hold (this take's
    /// own), or <see langword="null"/> when someone else took one first.</summary>
    private async ValueTask<ByteString?> TryTakeAsync(MigrationRequest request, string[] slots, string counterKey, KeyValue? counter,
        AdmissionOptions options, CancellationToken cancellationToken)
    {
        Session session = await SessionAsync(cancellationToken).ConfigureAwait(false);
        ByteString counterBytes = ByteString.CopyFromUtf8(counterKey);
        bool newWindow = counter is not { Lease: > 0 };
        long window = newWindow ? await GrantAsync(options.GlobalRetryBudget.TimeToLive, cancellationToken).ConfigureAwait(false)
            : counter!.Lease;
        long count = (counter is null ? 0 : Count(counter)) + 1;
        // A value of this attempt's own, so that a take whose answer was lost can be found and undone, and no one else's.
        ByteString holder = ByteString.CopyFromUtf8($"{request.VmId} {request.SourceHost} {request.DestinationHost} {Guid.NewGuid():N}");
        var take = new TxnRequest();
        foreach (string slot in slots)
        {
            ByteString key = ByteString.CopyFromUtf8(slot);
            take.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 });
            take.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = holder, Lease = session.Id } });
        }

        take.Failure.AddRange(slots.Select(slot =>
            new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(slot) } }));
        take.Compare.Add(counter is null
            ? new Compare { Key = counterBytes, Target = Compare.Types.CompareTarget.Create, CreateRevision = 0 }
            : new Compare { Key = counterBytes, Target = Compare.Types.CompareTarget.Mod, ModRevision = counter.ModRevision });
        take.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = counterBytes, Lease = window,
            Value = ByteString.CopyFromUtf8(count.ToString(CultureInfo.InvariantCulture)) } });
        bool taken;
        try
        {
            bool repeated = false;
            TxnResponse response = await CallAsync("the cluster's admission slots", (deadline, _) =>
                _client.TransactionAsync(take, deadline: deadline, cancellationToken: CancellationToken.None), CancellationToken.None,
                repeating: () => repeated = true).ConfigureAwait(false);
            // A repeat after a lost answer fails on the slots the first attempt took: they hold this take's own value.
            taken = response.Succeeded || (repeated && response.Responses.Count == slots.Length &&
                response.Responses.All(r => r.ResponseRange is { Kvs: [{ } slot] } && slot.Value.Equals(holder)));
        }
        catch (EtcdUnavailableException e) when (e.InnerException is RpcException { StatusCode: StatusCode.NotFound })
        {
            // A lease expired: the window's (it closed between the read and the take), or this process's session (it lost etcd
            // for longer than its time to live). Nothing was taken; a new session replaces an expired one. Ask again.
            if (await IsExpiredAsync(session.Id).ConfigureAwait(false))
            {
                await EndSessionAsync(session).ConfigureAwait(false);
            }

            taken = false;
        }
        catch (EtcdUnavailableException)
        {
            // The take may have been applied with its answer lost: its slots, bound to a session that lives on, would be held
            // for as long as this process runs. Undo it now if etcd answers, or before the next admission.
            Unsettle(new UnsettledTake(slots, holder));
            await SettleUnknownTakesAsync().ConfigureAwait(false);
            throw;
        }

        if (!taken && newWindow)
        {
            await RevokeAsync(window).ConfigureAwait(false); // the window's lease holds nothing
        }

        return taken ? holder : null;
    }

    private void Unsettle(UnsettledTake take)
    {
        _unsettled.Enqueue(take);
        while (_unsettled.Count > MaxUnsettledTakes && _unsettled.TryDequeue(out _))
        {
            // The oldest go with the session lease when this registry is disposed.
        }
    }

    /// <summary>Deletes the slots of takes whose answer was lost, where they hold this take's own value (the take was applied and
    /// nobody has released them); a take etcd never applied leaves nothing to delete. Those etcd cannot settle now stay queued.
    /// </summary>
    private async ValueTask SettleUnknownTakesAsync()
    {
        for (int pending = _unsettled.Count; pending > 0 && _unsettled.TryDequeue(out UnsettledTake? take); pending--)
        {
            var undo = new TxnRequest();
            foreach (string slot in take.Slots)
            {
                ByteString key = ByteString.CopyFromUtf8(slot);
                undo.Compare.Add(Holds(key, take.Holder));
                undo.Success.Add(Delete(key));
            }

            try
            {
                await CallAsync("the undoing of admission slots whose take was not answered", (deadline, _) =>
                    _client.TransactionAsync(undo, deadline: deadline, cancellationToken: CancellationToken.None), CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (EtcdUnavailableException)
            {
                Unsettle(take);
                return;
            }
        }
    }

    /// <summary>
    /// Deletes the slots of a take, each only while it holds the take's own value (<paramref name="holder"/>): the release is
    /// repeated when its answer is lost, and by then another orchestrator may have taken a slot the first release freed. A
    /// slot another took after this one's session expired stays theirs too. Marks the move's dwell and ping-pong windows.
    /// </summary>
    private async ValueTask ReleaseAsync(MigrationRequest request, string[] slots, ByteString holder, MigrationOutcome outcome,
        AdmissionOptions options)
    {
        try
        {
            var release = new TxnRequest();
            foreach (string slot in slots)
            {
                ByteString key = ByteString.CopyFromUtf8(slot);
                release.Success.Add(new RequestOp
                {
                    RequestTxn = new TxnRequest { Compare = { Holds(key, holder) }, Success = { Delete(key) } },
                });
            }

            if (outcome == MigrationOutcome.Succeeded)
            {
                await MarkAsync(release, "dwell/", request.VmId, request.DestinationHost, options.MinDwellTime).ConfigureAwait(false);
                await MarkAsync(release, "pingpong/", request.VmId, request.SourceHost, options.PingPongWindow).ConfigureAwait(false);
            }

            await CallAsync("the release of admission slots", (deadline, _) => _client.TransactionAsync(release, deadline: deadline,
                cancellationToken: CancellationToken.None), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdUnavailableException or ObjectDisposedException)
        {
            // The slots go with this process's session lease; the marks are lost, as a move etcd never heard of.
        }
    }

    /// <summary>Compares a slot's value with the value its take wrote.</summary>
    private static Compare Holds(ByteString key, ByteString holder) =>
        new() { Key = key, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = holder };

    private static RequestOp Delete(ByteString key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = key } };

    /// <summary>Adds to <paramref name="release"/> a mark that lives for <paramref name="window"/> on etcd's clock (none for an
    /// empty window).</summary>
    private async ValueTask MarkAsync(TxnRequest release, string kind, string vmId, string value, TimeSpan window)
    {
        if (window > TimeSpan.Zero)
        {
            long lease = await GrantAsync(window, CancellationToken.None).ConfigureAwait(false);
            release.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(_keys.Admission + kind + vmId),
                Value = ByteString.CopyFromUtf8(value), Lease = lease } });
        }
    }

    /// <summary>Grants a lease of <paramref name="ttl"/> (at least a second), etcd's clock counting it down.</summary>
    private async ValueTask<long> GrantAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        long seconds = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds));
        LeaseGrantResponse grant = await CallAsync("a lease", (deadline, token) => _client.LeaseGrantAsync(
            new LeaseGrantRequest { TTL = seconds }, deadline: deadline, cancellationToken: token),
                cancellationToken).ConfigureAwait(false);
        return grant.ID;
    }

    /// <summary>This process's session lease, which its admission slots are bound to: kept alive until the registry is disposed,
    /// so a dead orchestrator's slots expire with it.</summary>
    private async ValueTask<Session> SessionAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _session) is { } session)
        {
            return session;
        }

        await _sessionGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _session) is { } current)
            {
                return current;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            long granted = await GrantAsync(_options.LeaseTtl, cancellationToken).ConfigureAwait(false);
            var started = new Session(granted, new CancellationTokenSource());
            started.KeepAlive = KeepAliveAsync(granted, started.Alive.Token);
            Volatile.Write(ref _session, started);
            return started;
        }
        finally
        {
            _sessionGate.Release();
        }
    }

    /// <summary>Stops keeping <paramref name="session"/> alive and forgets it (if it is still the current one), so the next take
    /// starts another.</summary>
    private async ValueTask EndSessionAsync(Session session)
    {
        if (Interlocked.CompareExchange(ref _session, null, session) == session)
        {
            await session.Alive.CancelAsync().ConfigureAwait(false);
            await session.KeepAlive.ConfigureAwait(false);
            session.Alive.Dispose();
        }
    }

    /// <summary>A session lease and its keep-alive loop.</summary>
    private sealed record Session(long Id, CancellationTokenSource Alive)
    {
        public Task KeepAlive { get; set; } = Task.CompletedTask;
    }

    /// <summary>Slots a take may have put, with the value only that take wrote.</summary>
    private sealed record UnsettledTake(string[] Slots, ByteString Holder);
}
