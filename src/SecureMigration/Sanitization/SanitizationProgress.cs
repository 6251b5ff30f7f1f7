namespace SecureMigration.Sanitization;

/// <summary>Where a wipe stands, for progress displays.</summary>
/// <param name="Pass">The pass, from 1.</param>
/// <param name="Passes">The number of passes.</param>
/// <param name="Stage">What the pass does now: <c>write</c> or <c>verify</c>.</param>
/// <param name="Bytes">The bytes done in this stage.</param>
/// <param name="Total">The bytes this stage covers.</param>
public readonly record struct SanitizationProgress(int Pass, int Passes, string Stage, long Bytes, long Total);
