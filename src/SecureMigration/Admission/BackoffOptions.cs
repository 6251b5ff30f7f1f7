namespace SecureMigration.Admission;

/// <summary>Decorrelated-jitter backoff between retries of one VM's migration.</summary>
public sealed class BackoffOptions
{
    /// <summary>Gets or sets the shortest wait.</summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the longest wait.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        if (BaseDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException($"BackoffOptions.BaseDelay is {BaseDelay}; it must be above zero.", nameof(BaseDelay));
        }

        if (MaxDelay < BaseDelay)
        {
            throw new ArgumentException($"BackoffOptions.MaxDelay is {MaxDelay}; it must be at least BaseDelay ({BaseDelay}).",
                nameof(MaxDelay));
        }
    }

    /// <summary>A copy later changes to these options do not reach.</summary>
    internal BackoffOptions Snapshot() => new() { BaseDelay = BaseDelay, MaxDelay = MaxDelay };
}
