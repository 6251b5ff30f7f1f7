namespace SecureMigration.Hosting;

/// <summary>A source migration that the agent tries again, after waiting <see cref="Wait"/>.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="Attempt">The retry about to run (1 for the first retry); 0 while waiting out admission's backoff.</param>
/// <param name="MaxRetries">How many retries are allowed.</param>
/// <param name="Wait">How long the agent waits first: admission's <c>RetryAfter</c>, or zero.</param>
/// <param name="Reason">Why the previous attempt did not complete.</param>
public sealed record MigrationRetry(string VmId, int Attempt, int MaxRetries, TimeSpan Wait, string? Reason)
{
    /// <summary>Gets whether the agent waits out admission's backoff or rate limit rather than retrying a rolled-back migration.</summary>
    public bool IsBackoff => Attempt == 0;
}
