namespace SecureMigration.Cli.Simulation;

/// <summary>The workload of one simulation run.</summary>
internal sealed record SimulationSettings(
    SimulationScenario Scenario,
    double CutRate,
    int Vms,
    int Hosts,
    TimeSpan Duration,
    TimeSpan MigrationTime,
    int Seed);
