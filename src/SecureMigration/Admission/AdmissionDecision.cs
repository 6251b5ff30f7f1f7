namespace SecureMigration.Admission;

/// <summary>
/// The answer to a migration request: admitted with a lease, or denied with a reason, a sentence for people and
/// when asking again could succeed. A value: denying allocates nothing until <see cref="Message"/> is read.
/// </summary>
public readonly struct AdmissionDecision
{
    private static readonly string[] Scopes = ["VM", "host pair", "cluster"];

    // What the message names, kept as parts so that denying allocates nothing until Message is read.
    private readonly string? _first;
    private readonly string? _second;
    private readonly int _number;

    private AdmissionDecision(AdmissionLease lease)
    {
        Lease = lease;
        Reason = AdmissionDenialReason.None;
    }

    private AdmissionDecision(AdmissionDenialReason reason, TimeSpan retryAfter, string? first, string? second, int number)
    {
        Reason = reason;
        RetryAfter = retryAfter;
        _first = first;
        _second = second;
        _number = number;
    }

    /// <summary>Gets whether the migration may start.</summary>
    public bool IsAdmitted => Reason == AdmissionDenialReason.None;

    /// <summary>Gets the lease to complete when the migration ends (only when admitted).</summary>
    public AdmissionLease Lease { get; }

    /// <summary>Gets why the request was denied, or <see cref="AdmissionDenialReason.None"/>.</summary>
    public AdmissionDenialReason Reason { get; }

    /// <summary>Gets how long to wait before asking again; zero when admitted.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>Gets a sentence for people: what was denied, why, and when to ask again.</summary>
    public string Message => IsAdmitted
        ? Lease.Request is null ? "The migration was admitted." : $"The migration of VM '{Lease.Request.VmId}' was admitted."
        : Reason switch
    {
        AdmissionDenialReason.AlreadyMigrating => $"VM '{_first}' is already migrating; wait for that migration to end.",
        AdmissionDenialReason.RetryBudgetExhausted => $"The {Scopes[_number]} retry budget " +
            $"({_first}{(_second is null ? "" : " → " + _second)}) is exhausted: too many recent attempts failed. Ask again in " +
                $"{Text.Durations.Describe(RetryAfter)}.",
        AdmissionDenialReason.Backoff => $"VM '{_first}' failed to migrate recently; its backoff ends in " +
            $"{Text.Durations.Describe(RetryAfter)}.",
        AdmissionDenialReason.CircuitOpen => $"The {Scopes[_number]} circuit breaker " +
            $"({_first}{(_second is null ? "" : " → " + _second)}) is open after repeated failures; it lets one probe through in " +
                $"{Text.Durations.Describe(RetryAfter)}.",
        AdmissionDenialReason.ClusterCapReached => $"The cluster already runs its maximum of {_number} concurrent migrations. Ask again " +
            $"when one ends.",
        AdmissionDenialReason.OutboundCapReached => $"Host '{_first}' already sends its maximum of {_number} concurrent migrations. Ask " +
            $"again when one ends.",
        AdmissionDenialReason.InboundCapReached => $"Host '{_first}' already receives its maximum of {_number} concurrent migrations. " +
            $"Ask again when one ends.",
        AdmissionDenialReason.DwellTime => $"VM '{_first}' moved too recently; an automatic migration may move it again in " +
            $"{Text.Durations.Describe(RetryAfter)} (a manual or evacuation request may override this).",
        AdmissionDenialReason.PingPong => $"Moving VM '{_first}' back to '{_second}', the host it just left, would ping-pong; automatic " +
            $"requests for that move are refused for {Text.Durations.Describe(RetryAfter)}.",
        AdmissionDenialReason.RateLimited => $"Too many {_first} migration requests in the last minute. Ask again in " +
            $"{Text.Durations.Describe(RetryAfter)}.",
        AdmissionDenialReason.RecoveringFromDamagedState => $"The saved admission state was damaged, so budgets start empty: retries and " +
            $"automatic migrations resume in {Text.Durations.Describe(RetryAfter)}. Manual and evacuation requests are admitted.",
        AdmissionDenialReason.TooManyTrackedVms => $"Admission tracks its maximum of {_number} VMs, none idle; the request is refused " +
            $"rather than forgetting a VM's history.",
        _ => $"The request was denied ({Reason}).",
    };

    internal static AdmissionDecision Admit(AdmissionLease lease) => new(lease);

    internal static AdmissionDecision Deny(AdmissionDenialReason reason, TimeSpan retryAfter, string? first = null, string? second = null,
        int number = 0) =>
        new(reason, retryAfter, first, second, number);
}
