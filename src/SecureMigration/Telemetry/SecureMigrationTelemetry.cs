using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SecureMigration.Telemetry;

/// <summary>The one <see cref="Meter"/> and <see cref="ActivitySource"/> every SecureMigration feature reports through.</summary>
public static class SecureMigrationTelemetry
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "SecureMigration";

    /// <summary>Gets the activity source for traces.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name,
        typeof(SecureMigrationTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Gets the meter for metrics.</summary>
    public static Meter Meter { get; } = new(Name, typeof(SecureMigrationTelemetry).Assembly.GetName().Version?.ToString());
}
