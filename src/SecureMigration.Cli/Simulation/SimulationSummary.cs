namespace SecureMigration.Cli.Simulation;

/// <summary>What a simulation run counted.</summary>
internal sealed class SimulationSummary
{
    public long Attempts { get; set; }

    public long FirstAttemptsAdmitted { get; set; }

    public long RetriesAdmitted { get; set; }

    public long Succeeded { get; set; }

    public long Cut { get; set; }

    public SortedDictionary<string, long> RetriesDenied { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, long> FirstAttemptsDenied { get; } = new(StringComparer.Ordinal);

    public TimeSpan LongestWait { get; set; }

    public long PingPongCyclesStopped { get; set; }

    public double RetryBoundPerWindow { get; set; }
}
