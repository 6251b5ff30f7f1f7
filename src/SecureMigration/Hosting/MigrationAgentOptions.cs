namespace SecureMigration.Hosting;

/// <summary>How a <see cref="MigrationAgent"/> serves and starts migrations.</summary>
public sealed class MigrationAgentOptions
{
    /// <summary>Gets or sets how many incoming migrations run at once; further authenticated peers wait to be accepted.</summary>
    /// <value>The default is 8.</value>
    public int MaxConcurrentReceives { get; set; } = 8;

    /// <summary>
    /// Gets or sets how many times a source migration that rolled back is retried (each retry still asks admission, so
    /// budgets, backoff and breakers bound it); a permanent failure is never retried.
    /// </summary>
    /// <value>The default is 0.</value>
    public int MaxRetries { get; set; }

    /// <summary>Throws unless every option is usable; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (MaxConcurrentReceives is < 1 or > 1024)
        {
            throw new ArgumentException($"MigrationAgentOptions.MaxConcurrentReceives is {MaxConcurrentReceives}; it must be between 1 " +
                $"and 1024.");
        }

        if (MaxRetries is < 0 or > 100)
        {
            throw new ArgumentException($"MigrationAgentOptions.MaxRetries is {MaxRetries}; it must be between 0 and 100.");
        }
    }

    internal MigrationAgentOptions Snapshot() => new() { MaxConcurrentReceives = MaxConcurrentReceives, MaxRetries = MaxRetries };
}
