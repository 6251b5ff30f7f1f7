namespace SecureMigration.Tests.Infrastructure;

/// <summary>Waits for a condition another task makes true (a listener's count, say) that no event announces.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails after a minute.</summary>
    /// <param name="condition">The condition.</param>
    /// <returns>A task that completes once it holds.</returns>
    public static async Task TrueAsync(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            await Task.Delay(5, patience.Token);
        }
    }
}
