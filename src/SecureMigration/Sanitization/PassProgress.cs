namespace SecureMigration.Sanitization;

/// <summary>Reports one stage's progress.</summary>
internal readonly record struct PassProgress(IProgress<SanitizationProgress>? Target, int Pass, int Passes, string Stage, long Total)
{
    public void Report(long bytes) => Target?.Report(new SanitizationProgress(Pass, Passes, Stage, bytes, Total));
}
