namespace SecureMigration.Cli.Simulation;

/// <summary>The workloads <c>secmig budget simulate</c> can run.</summary>
internal enum SimulationScenario
{
    /// <summary>Occasional migrations that succeed unless the network fails them (no attacker).</summary>
    Calm,

    /// <summary>An adversary cuts a chosen share of migrations at random moments; the orchestrator retries at once.</summary>
    Thrash,

    /// <summary>A balancer moves VMs back the moment they arrive.</summary>
    PingPong,
}
