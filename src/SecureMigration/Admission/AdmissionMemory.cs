namespace SecureMigration.Admission;

/// <summary>
/// What admission remembers between decisions and, through <see cref="State.AdmissionStatePersistence"/>, across
/// processes: each VM's and host pair's budgets, breakers and history of moves, the global retry budget, and how long
/// a damaged saved state restricts retries. Not thread-safe: the controller holds its lock around every use.
/// </summary>
/// <param name="options">The policies the budgets and breakers are made with (a snapshot).</param>
internal sealed class AdmissionMemory(AdmissionOptions options)
{
    /// <summary>Gets the policies.</summary>
    public AdmissionOptions Options { get; } = options;

    /// <summary>Gets each tracked VM's state, by id (at most <see cref="AdmissionOptions.MaxTrackedVms"/>).</summary>
    public Dictionary<string, VmAdmissionState> Vms { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets each host pair's state (at most <see cref="AdmissionOptions.MaxTrackedVms"/>).</summary>
    public Dictionary<(string Source, string Destination), HostPairState> Pairs { get; } = [];

    /// <summary>Gets the retry budget every host shares.</summary>
    public RetryBudget GlobalBudget { get; } = new(options.GlobalRetryBudget);

    /// <summary>Gets or sets until when retries and automatic migrations are refused after a damaged saved state.</summary>
    public DateTimeOffset RestrictedUntil { get; set; } = DateTimeOffset.MinValue;

    /// <summary>Gets the longest any remembered state lasts: how long a restriction after a damaged state must hold.</summary>
    public TimeSpan LongestMemory => new[]
    {
        Options.VmRetryBudget.TimeToLive, Options.HostPairRetryBudget.TimeToLive, Options.GlobalRetryBudget.TimeToLive,
        Options.MinDwellTime, Options.CircuitBreaker.BreakDuration,
    }.Max();
}
