using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Admission.State;
using SecureMigration.RateLimiting;
using SecureMigration.Threading;

namespace SecureMigration.Admission;

/// <summary>
/// Decides whether a migration may start (thrash defense): per-VM, per-host-pair and global retry budgets,
/// backoff with decorrelated jitter, circuit breakers, concurrency caps, minimum dwell time, ping-pong detection
/// and per-trigger rate limits. A denial is a value with a reason and a <c>RetryAfter</c>, never an exception.
/// Thread-safe; a decision takes one short lock and allocates nothing in steady state.
/// </summary>
public sealed class AdmissionController
{
    private readonly AdmissionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DecorrelatedJitterBackoff _backoff;
    private readonly TokenBucket _automatic;
    private readonly TokenBucket _manual;
    private readonly AdmissionMemory _memory;
    private readonly Dictionary<string, int> _outbound = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _inbound = new(StringComparer.Ordinal);
    private readonly Dictionary<long, MigrationRequest> _leases = [];
    private readonly Lock _gate = new();
    private long _nextLease;
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    /// <summary>Creates a controller.</summary>
    /// <param name="options">The policies; validated here.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/> for the system clock.</param>
    /// <param name="random">The jitter source, or <see langword="null"/> for a shared one; seed it for reproducible runs.</param>
    /// <param name="loggerFactory">Where denials are logged.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public AdmissionController(AdmissionOptions options, TimeProvider? timeProvider = null, Random? random = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options = options.Snapshot();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Admission");
        _backoff = new DecorrelatedJitterBackoff(options.Backoff, random ?? Random.Shared);
        _memory = new AdmissionMemory(options);
        _automatic = new TokenBucket(options.AutomaticPerMinute, _time);
        _manual = new TokenBucket(options.ManualPerMinute, _time);
    }

    /// <summary>Gets the policies (a snapshot), which cluster admission applies too.</summary>
    internal AdmissionOptions Options => _options;

    /// <summary>Gets where this controller's state came from.</summary>
    public AdmissionRestore RestoredFrom { get; private set; }

    /// <summary>Gets what was wrong with the saved state, when <see cref="RestoredFrom"/> is
    /// <see cref="AdmissionRestore.DamagedStateRestricted"/>.</summary>
    public string? RestoreProblem { get; private set; }

    /// <summary>
    /// Creates a controller from the state saved in <paramref name="store"/>. A missing state starts fresh; a damaged
    /// one is reported (log event 1203, <see cref="RestoreProblem"/>) and the controller starts in its most
    /// restrictive state instead of with fresh budgets.
    /// </summary>
    /// <param name="options">The policies.</param>
    /// <param name="store">Where the state was saved.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/>.</param>
    /// <param name="random">The jitter source, or <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where the outcome is logged.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The controller.</returns>
    public static async Task<AdmissionController> RestoreAsync(AdmissionOptions options, IAdmissionStateStore store,
        TimeProvider? timeProvider = null,
        Random? random = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var controller = new AdmissionController(options, timeProvider, random, loggerFactory);
        (AdmissionRestore from, string? problem) = await AdmissionStatePersistence.LoadAsync(store, controller._memory,
            cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            controller.Restrict(problem);
        }
        else
        {
            controller.RestoredFrom = from;
        }

        return controller;
    }

    /// <summary>Saves the state (budgets, breakers, backoff, dwell and ping-pong history) to <paramref name="store"/>.</summary>
    /// <param name="store">Where to save it.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the state is durable.</returns>
    public async Task SaveAsync(IAdmissionStateStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await ThreadPoolHop.IfNeeded();
        byte[] sealedState;
        lock (_gate)
        {
            sealedState = AdmissionStatePersistence.Seal(_memory, _time.GetUtcNow());
        }

        await store.SaveAsync(sealedState, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the number of admitted migrations not completed yet.</summary>
    public int ActiveMigrations
    {
        get
        {
            lock (_gate)
            {
                return _leases.Count;
            }
        }
    }

    /// <summary>Gets the number of VMs whose admission state is kept.</summary>
    public int TrackedVms
    {
        get
        {
            lock (_gate)
            {
                return _memory.Vms.Count;
            }
        }
    }

    /// <summary>Decides whether <paramref name="request"/> may start.</summary>
    /// <param name="request">The request.</param>
    /// <returns>Admitted with a lease to complete, or denied with a reason and when to ask again.</returns>
    /// <exception cref="ArgumentException">The request names no VM or host, or the same host twice.</exception>
    public AdmissionDecision TryAdmit(MigrationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.VmId);
        ArgumentException.ThrowIfNullOrEmpty(request.SourceHost);
        ArgumentException.ThrowIfNullOrEmpty(request.DestinationHost);
        if (string.Equals(request.SourceHost, request.DestinationHost, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The request moves VM '{request.VmId}' from host '{request.SourceHost}' to itself.",
                nameof(request));
        }

        AdmissionDecision decision;
        lock (_gate)
        {
            decision = DecideLocked(request, _time.GetUtcNow());
        }

        if (AdmissionTelemetry.Decisions.Enabled)
        {
            AdmissionTelemetry.Decisions.Add(1, new("result", AdmissionTelemetry.ReasonNames[(int)decision.Reason]), new("trigger",
                TriggerName(request.Trigger)));
        }

        if (decision.IsAdmitted)
        {
            if (AdmissionTelemetry.Active.Enabled)
            {
                AdmissionTelemetry.Active.Add(1);
            }

            Log.Admitted(_logger, request.VmId, request.SourceHost, request.DestinationHost, request.Trigger);
        }
        else
        {
            Log.Denied(_logger, request.VmId, request.SourceHost, request.DestinationHost, request.Trigger, decision.Reason,
                new Text.ReadableDuration(decision.RetryAfter));
        }

        return decision;
    }

    internal void Complete(AdmissionLease lease, MigrationOutcome outcome)
    {
        lock (_gate)
        {
            if (!_leases.Remove(lease.Id, out MigrationRequest? request))
            {
                throw new InvalidOperationException($"The lease for VM '{lease.Request.VmId}' was completed already; complete each lease " +
                    $"once.");
            }

            DateTimeOffset now = _time.GetUtcNow();
            VmAdmissionState vm = _memory.Vms[request.VmId];
            HostPairState pair = _memory.Pairs[(request.SourceHost, request.DestinationHost)];
            vm.InFlight = false;
            Touch(vm, now);
            CollectionsMarshal.GetValueRefOrNullRef(_outbound, request.SourceHost)--;
            CollectionsMarshal.GetValueRefOrNullRef(_inbound, request.DestinationHost)--;
            vm.Breaker.OnOutcome(outcome, now);
            pair.Breaker.OnOutcome(outcome, now);
            switch (outcome)
            {
                case MigrationOutcome.Succeeded:
                    vm.LastMovedAt = now;
                    vm.LastMovedFrom = request.SourceHost;
                    vm.LastBackoff = TimeSpan.Zero;
                    vm.RetryNotBefore = DateTimeOffset.MinValue;
                    break;
                case MigrationOutcome.Failed:
                    vm.LastBackoff = _backoff.Next(vm.LastBackoff);
                    vm.RetryNotBefore = now + vm.LastBackoff;
                    break;
            }
        }

        if (AdmissionTelemetry.Active.Enabled)
        {
            AdmissionTelemetry.Active.Add(-1);
        }
    }

    private AdmissionDecision DecideLocked(MigrationRequest request, DateTimeOffset now)
    {
        ExpireIdle(now);
        if (!TryGetVm(request.VmId, now, out VmAdmissionState? vm) || !TryGetPair(request, out HostPairState? pair))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.TooManyTrackedVms, _options.IdleExpiry, number: _options.MaxTrackedVms);
        }

        Touch(vm, now);
        if (now < _memory.RestrictedUntil && request.Trigger is MigrationTrigger.Retry or MigrationTrigger.Automatic)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.RecoveringFromDamagedState, _memory.RestrictedUntil - now, vm.VmId);
        }

        if (vm.InFlight)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.AlreadyMigrating, TimeSpan.Zero, vm.VmId);
        }

        if (vm.Breaker.IsOpen(now, out TimeSpan retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.CircuitOpen, retryAfter, vm.VmId, number: 0);
        }

        if (pair.Breaker.IsOpen(now, out retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.CircuitOpen, retryAfter, request.SourceHost, request.DestinationHost,
                number: 1);
        }

        bool mayOverrideDwell = request.Trigger is MigrationTrigger.Manual or MigrationTrigger.Evacuation;
        TimeSpan sinceMove = now - vm.LastMovedAt;
        if (!mayOverrideDwell && sinceMove < _options.MinDwellTime)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.DwellTime, _options.MinDwellTime - sinceMove, vm.VmId);
        }

        if (request.Trigger == MigrationTrigger.Automatic && sinceMove < _options.PingPongWindow &&
            string.Equals(vm.LastMovedFrom, request.DestinationHost, StringComparison.Ordinal))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.PingPong, _options.PingPongWindow - sinceMove, vm.VmId,
                request.DestinationHost);
        }

        if (_leases.Count >= _options.MaxConcurrentMigrations)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.ClusterCapReached, TimeSpan.Zero, number: _options.MaxConcurrentMigrations);
        }

        // Host counters stay in the maps at zero (there are at most as many hosts as host pairs), so a decision
        // touches each map once and refs stay valid until the commit below.
        ref int outbound = ref CollectionsMarshal.GetValueRefOrAddDefault(_outbound, request.SourceHost, out _);
        if (outbound >= _options.MaxOutboundPerHost)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.OutboundCapReached, TimeSpan.Zero, request.SourceHost,
                number: _options.MaxOutboundPerHost);
        }

        ref int inbound = ref CollectionsMarshal.GetValueRefOrAddDefault(_inbound, request.DestinationHost, out _);
        if (inbound >= _options.MaxInboundPerHost)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.InboundCapReached, TimeSpan.Zero, request.DestinationHost,
                number: _options.MaxInboundPerHost);
        }

        bool isRetry = request.Trigger == MigrationTrigger.Retry;
        if (isRetry && DenyRetry(request, vm, pair, now) is { } denied)
        {
            return denied;
        }

        TokenBucket rate = request.Trigger == MigrationTrigger.Automatic ? _automatic : _manual;
        if (!rate.TryTake(out retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.RateLimited, retryAfter, TriggerName(request.Trigger));
        }

        // Every check passed: only now does the request change any state.
        if (isRetry)
        {
            vm.Budget.Withdraw(now);
            pair.Budget.Withdraw(now);
            _memory.GlobalBudget.Withdraw(now);
        }
        else
        {
            vm.Budget.Deposit(now);
            pair.Budget.Deposit(now);
            _memory.GlobalBudget.Deposit(now);
        }

        vm.InFlight = true;
        vm.Breaker.OnAdmitted();
        pair.Breaker.OnAdmitted();
        outbound++;
        inbound++;
        long id = ++_nextLease;
        _leases.Add(id, request);
        return AdmissionDecision.Admit(new AdmissionLease(this, request, id));
    }

    /// <summary>A retry must wait out its backoff and find a retry in all three budgets; manual triggers never bypass this.</summary>
    private AdmissionDecision? DenyRetry(MigrationRequest request, VmAdmissionState vm, HostPairState pair, DateTimeOffset now)
    {
        if (now < vm.RetryNotBefore)
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.Backoff, vm.RetryNotBefore - now, vm.VmId);
        }

        if (!vm.Budget.CanWithdraw(now, out TimeSpan retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.RetryBudgetExhausted, retryAfter, vm.VmId, number: 0);
        }

        if (!pair.Budget.CanWithdraw(now, out retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.RetryBudgetExhausted, retryAfter, request.SourceHost,
                request.DestinationHost, number: 1);
        }

        if (!_memory.GlobalBudget.CanWithdraw(now, out retryAfter))
        {
            return AdmissionDecision.Deny(AdmissionDenialReason.RetryBudgetExhausted, retryAfter, "all hosts", number: 2);
        }

        return null;
    }

    private bool TryGetVm(string vmId, DateTimeOffset now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out VmAdmissionState? vm)
    {
        if (_memory.Vms.TryGetValue(vmId, out vm))
        {
            return true;
        }

        if (_memory.Vms.Count >= _options.MaxTrackedVms)
        {
            ExpireIdle(now, tableFull: true);
        }

        if (_memory.Vms.Count >= _options.MaxTrackedVms)
        {
            // Never forget a VM that is not idle: that would reset its budget and breaker, a bypass for a flood of fake ids.
            return false;
        }

        vm = new VmAdmissionState(vmId, _options) { LastTouched = now };
        _memory.Vms.Add(vmId, vm);
        return true;
    }

    private bool TryGetPair(MigrationRequest request, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HostPairState? pair)
    {
        (string Source, string Destination) key = (request.SourceHost, request.DestinationHost);
        if (_memory.Pairs.TryGetValue(key, out pair))
        {
            return true;
        }

        if (_memory.Pairs.Count >= _options.MaxTrackedVms)
        {
            return false;
        }

        pair = new HostPairState(_options);
        _memory.Pairs.Add(key, pair);
        return true;
    }

    private static void Touch(VmAdmissionState vm, DateTimeOffset now) => vm.LastTouched = now;

    /// <summary>
    /// Drops VMs idle for longer than <see cref="AdmissionOptions.IdleExpiry"/>. A full pass, so it runs at most
    /// every quarter of the expiry, and at most once a second when the table is full.
    /// </summary>
    private void ExpireIdle(DateTimeOffset now, bool tableFull = false)
    {
        bool due = now >= _nextSweep || (tableFull && now - _lastSweep >= TimeSpan.FromSeconds(1));
        if (!due)
        {
            return;
        }

        _lastSweep = now;
        _nextSweep = now + (_options.IdleExpiry / 4);
        foreach ((string vmId, VmAdmissionState vm) in _memory.Vms)
        {
            if (!vm.InFlight && now - vm.LastTouched >= _options.IdleExpiry)
            {
                _memory.Vms.Remove(vmId);
            }
        }
    }

    /// <summary>What holds <paramref name="vmId"/> back now: its breaker, backoff and retry budget, and a damaged state's
    /// restriction.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>One item per cause, empty when nothing does; changes nothing.</returns>
    public IReadOnlyList<string> HeldBack(string vmId)
    {
        ArgumentException.ThrowIfNullOrEmpty(vmId);
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            string[] held = _memory.Vms.TryGetValue(vmId, out VmAdmissionState? vm) ? Holding(vm.Breaker, vm.Budget, Backoff(vm, now),
                now) : [];
            return now < _memory.RestrictedUntil ? [.. held, Restriction(now)] : held;
        }
    }

    /// <summary>
    /// Clears what holds migrations back after their cause is fixed: circuit breakers, backoff and retry budgets of one VM
    /// and of every host pair (a pair's breaker that the VM's failures opened would hold it back still), or of everything
    /// (the global budget and the restriction after a damaged state too). The history of moves that the dwell time and
    /// ping-pong detection read is kept, and a migration in flight is not touched.
    /// Save the state afterwards (<see cref="SaveAsync"/>) and audit who reset it.
    /// </summary>
    /// <param name="vmId">The VM, or <see langword="null"/> for everything.</param>
    /// <returns>What was cleared, one item per VM or pair, for the audit log and the operator; empty when nothing held anything
    /// back.</returns>
    public IReadOnlyList<string> Reset(string? vmId = null)
    {
        var cleared = new List<string>();
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            IEnumerable<VmAdmissionState> vms = vmId is null ? _memory.Vms.Values : _memory.Vms.TryGetValue(vmId,
                out VmAdmissionState? one) ? [one] : [];
            foreach (VmAdmissionState vm in vms)
            {
                Note($"VM '{vm.VmId}'", vm.Breaker, vm.Budget, Backoff(vm, now));
                vm.RetryNotBefore = DateTimeOffset.MinValue;
                vm.LastBackoff = TimeSpan.Zero;
            }

            foreach (((string source, string destination), HostPairState pair) in _memory.Pairs)
            {
                Note($"{source} -> {destination}", pair.Breaker, pair.Budget, null);
            }

            if (vmId is null)
            {
                if (_memory.GlobalBudget.Balance(now) < 1)
                {
                    cleared.Add("global retry budget spent");
                }

                _memory.GlobalBudget.Reset();
                if (_memory.RestrictedUntil > now)
                {
                    cleared.Add(Restriction(now));
                    _memory.RestrictedUntil = DateTimeOffset.MinValue;
                }
            }
        }

        return cleared;

        // Resets a breaker and a budget, and notes what they (and the backoff) held back.
        void Note(string who, CircuitBreaker breaker, RetryBudget budget, string? backoff)
        {
            string[] held = Holding(breaker, budget, backoff, _time.GetUtcNow());
            breaker.Reset();
            budget.Reset();
            if (held.Length > 0)
            {
                cleared.Add($"{who}: {string.Join(", ", held)}");
            }
        }
    }

    private static string[] Holding(CircuitBreaker breaker, RetryBudget budget, string? backoff, DateTimeOffset now) =>
        [.. new[] { breaker.Describe(now), backoff, budget.Balance(now) < 1 ? "retry budget spent" : null }.OfType<string>()];

    private static string? Backoff(VmAdmissionState vm, DateTimeOffset now) =>
        vm.RetryNotBefore > now ? $"backoff for {Text.Durations.Describe(vm.RetryNotBefore - now)}" : null;

    private string Restriction(DateTimeOffset now) =>
        $"restriction after a damaged admission state, for {Text.Durations.Describe(_memory.RestrictedUntil - now)}";

    /// <summary>Lists the VMs admission remembers (breakers, budgets, history of moves).</summary>
    /// <returns>Their ids, in ordinal order.</returns>
    public IReadOnlyList<string> KnownVmIds()
    {
        lock (_gate)
        {
            return [.. _memory.Vms.Keys.Order(StringComparer.Ordinal)];
        }
    }

    private void Restrict(string problem)
    {
        _memory.RestrictedUntil = _time.GetUtcNow() + _memory.LongestMemory;
        RestoredFrom = AdmissionRestore.DamagedStateRestricted;
        RestoreProblem = problem;
        Log.DamagedState(_logger, problem, _memory.RestrictedUntil);
    }

    private static string TriggerName(MigrationTrigger trigger) => trigger switch
    {
        MigrationTrigger.Manual => "manual",
        MigrationTrigger.Automatic => "automatic",
        MigrationTrigger.Evacuation => "evacuation",
        _ => "retry",
    };
}
