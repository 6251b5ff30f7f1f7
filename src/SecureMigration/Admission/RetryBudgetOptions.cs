namespace SecureMigration.Admission;

/// <summary>
/// A retry budget in Finagle's style: every first attempt deposits <see cref="PercentCanRetry"/> of a retry,
/// every retry withdraws one, deposits expire after <see cref="TimeToLive"/>, and a floor of
/// <see cref="MinRetriesPerSecond"/> keeps a quiet system able to retry at all.
/// </summary>
public sealed class RetryBudgetOptions
{
    /// <summary>Gets or sets how long deposits and withdrawals count.</summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets the share of first attempts that may be retried within <see cref="TimeToLive"/>.</summary>
    /// <value>The default is 0.2 (20 %).</value>
    public double PercentCanRetry { get; set; } = 0.2;

    /// <summary>Gets or sets the retries per second allowed even with no first attempts.</summary>
    /// <value>The default is 0.05 (three a minute).</value>
    public double MinRetriesPerSecond { get; set; } = 0.05;

    /// <summary>
    /// Gets the most retries the budget admits in any window of <see cref="TimeToLive"/> that holds
    /// <paramref name="firstAttempts"/> first attempts: the bound a hostile link cannot push retries past.
    /// </summary>
    /// <param name="firstAttempts">First attempts deposited in the window.</param>
    /// <returns>The bound.</returns>
    public double MaxRetriesPerWindow(long firstAttempts) =>
        (MinRetriesPerSecond * TimeToLive.TotalSeconds) + (PercentCanRetry * firstAttempts);

    internal void Validate()
    {
        if (TimeToLive < TimeSpan.FromSeconds(1) || TimeToLive > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"RetryBudgetOptions.TimeToLive is {TimeToLive}; it must be 1 second to 1 day.",
                nameof(TimeToLive));
        }

        if (PercentCanRetry is < 0 or > 1000 || double.IsNaN(PercentCanRetry))
        {
            throw new ArgumentException($"RetryBudgetOptions.PercentCanRetry is {PercentCanRetry}; it must be 0 to 1000 (a ratio: 0.2 " +
                $"means 20 %).", nameof(PercentCanRetry));
        }

        if (MinRetriesPerSecond is < 0 or > 1000 || double.IsNaN(MinRetriesPerSecond))
        {
            throw new ArgumentException($"RetryBudgetOptions.MinRetriesPerSecond is {MinRetriesPerSecond}; it must be 0 to 1000.",
                nameof(MinRetriesPerSecond));
        }
    }

    /// <summary>A copy later changes to these options do not reach.</summary>
    internal RetryBudgetOptions Snapshot() =>
        new() { TimeToLive = TimeToLive, PercentCanRetry = PercentCanRetry, MinRetriesPerSecond = MinRetriesPerSecond };
}
