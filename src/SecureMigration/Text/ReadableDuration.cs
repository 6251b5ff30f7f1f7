namespace SecureMigration.Text;

/// <summary>A duration for a log message: formatted by <see cref="Durations.Describe"/> only when the message is written.</summary>
/// <param name="Value">The duration.</param>
internal readonly record struct ReadableDuration(TimeSpan Value)
{
    public override string ToString() => Durations.Describe(Value);
}
