namespace SecureMigration.Admission;

/// <summary>Every admission policy's settings; each policy is on by default with the documented defaults.</summary>
public sealed class AdmissionOptions
{
    /// <summary>Gets the retry budget kept per VM.</summary>
    public RetryBudgetOptions VmRetryBudget { get; private init; } = new();

    /// <summary>Gets the retry budget kept per (source, destination) host pair.</summary>
    public RetryBudgetOptions HostPairRetryBudget { get; private init; } = new();

    /// <summary>Gets the cluster-wide retry budget.</summary>
    /// <value>The default floor is one retry every two seconds.</value>
    public RetryBudgetOptions GlobalRetryBudget { get; private init; } = new() { MinRetriesPerSecond = 0.5 };

    /// <summary>Gets the backoff between retries of one VM.</summary>
    public BackoffOptions Backoff { get; private init; } = new();

    /// <summary>Gets the circuit breakers kept per VM and per host pair.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; private init; } = new();

    /// <summary>Gets or sets the most migrations in progress in the cluster.</summary>
    /// <value>The default is 5 (as KubeVirt's parallelMigrationsPerCluster).</value>
    public int MaxConcurrentMigrations { get; set; } = 5;

    /// <summary>Gets or sets the most migrations leaving one host at once.</summary>
    /// <value>The default is 2 (as KubeVirt's parallelOutboundMigrationsPerNode).</value>
    public int MaxOutboundPerHost { get; set; } = 2;

    /// <summary>Gets or sets the most migrations arriving at one host at once.</summary>
    /// <value>The default is 2.</value>
    public int MaxInboundPerHost { get; set; } = 2;

    /// <summary>Gets or sets how long a VM stays put after a migration before an automatic one may move it again.</summary>
    /// <value>The default is 10 minutes.</value>
    public TimeSpan MinDwellTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets the window in which moving a VM back to the host it just left counts as ping-pong.</summary>
    /// <value>The default is 1 hour.</value>
    public TimeSpan PingPongWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the automatic (balancer) requests admitted per minute, cluster-wide.</summary>
    /// <value>The default is 6.</value>
    public double AutomaticPerMinute { get; set; } = 6;

    /// <summary>Gets or sets the manual and evacuation requests admitted per minute, cluster-wide.</summary>
    /// <value>The default is 60.</value>
    public double ManualPerMinute { get; set; } = 60;

    /// <summary>Gets or sets the most VMs whose admission state is kept; idle ones are dropped first.</summary>
    /// <value>The default is 100,000.</value>
    public int MaxTrackedVms { get; set; } = 100_000;

    /// <summary>Gets or sets how long a VM with no migration in flight is remembered.</summary>
    /// <value>The default is 2 hours (longer than the ping-pong window and the breakers).</value>
    public TimeSpan IdleExpiry { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Checks every option; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        VmRetryBudget.Validate();
        HostPairRetryBudget.Validate();
        GlobalRetryBudget.Validate();
        Backoff.Validate();
        CircuitBreaker.Validate();
        RequirePositive(MaxConcurrentMigrations, nameof(MaxConcurrentMigrations));
        RequirePositive(MaxOutboundPerHost, nameof(MaxOutboundPerHost));
        RequirePositive(MaxInboundPerHost, nameof(MaxInboundPerHost));
        RequirePositive(MaxTrackedVms, nameof(MaxTrackedVms));
        if (MinDwellTime < TimeSpan.Zero || PingPongWindow < TimeSpan.Zero || IdleExpiry <= TimeSpan.Zero)
        {
            throw new ArgumentException($"AdmissionOptions time spans must not be negative (MinDwellTime {MinDwellTime}, PingPongWindow " +
                $"{PingPongWindow}) and IdleExpiry ({IdleExpiry}) must be above zero.");
        }

        if (AutomaticPerMinute < 0 || ManualPerMinute <= 0 || double.IsNaN(AutomaticPerMinute) || double.IsNaN(ManualPerMinute))
        {
            throw new ArgumentException($"AdmissionOptions.AutomaticPerMinute is {AutomaticPerMinute} and ManualPerMinute " +
                $"{ManualPerMinute}; the first must be at least 0, the second above 0.");
        }
    }

    private static void RequirePositive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"AdmissionOptions.{name} is {value}; it must be at least 1.", name);
        }
    }

    /// <summary>A copy later changes to these options do not reach: a running controller keeps what it was made with.</summary>
    internal AdmissionOptions Snapshot() => new()
    {
        VmRetryBudget = VmRetryBudget.Snapshot(), HostPairRetryBudget = HostPairRetryBudget.Snapshot(),
        GlobalRetryBudget = GlobalRetryBudget.Snapshot(), Backoff = Backoff.Snapshot(), CircuitBreaker = CircuitBreaker.Snapshot(),
        MaxConcurrentMigrations = MaxConcurrentMigrations, MaxOutboundPerHost = MaxOutboundPerHost, MaxInboundPerHost = MaxInboundPerHost,
        MinDwellTime = MinDwellTime, PingPongWindow = PingPongWindow, AutomaticPerMinute = AutomaticPerMinute,
        ManualPerMinute = ManualPerMinute, MaxTrackedVms = MaxTrackedVms, IdleExpiry = IdleExpiry,
    };
}
