namespace SecureMigration.Tests.Infrastructure;

/// <summary>Progress reported on the reporting thread, at once (unlike <see cref="Progress{T}"/>), so a test can act at an exact
/// point of a migration.</summary>
/// <typeparam name="T">The progress value.</typeparam>
/// <param name="report">What to do with each report.</param>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
