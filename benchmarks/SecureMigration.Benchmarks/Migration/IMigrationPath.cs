using SecureMigration.Benchmarks.Processes;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>One way to carry a QEMU migration from the source to the destination.</summary>
internal interface IMigrationPath : IDisposable
{
    /// <summary>Gets the name shown in the results.</summary>
    string Name { get; }

    /// <summary>Gets a short key for file and VM names.</summary>
    string Key { get; }

    /// <summary>Gets whether the destination QEMU starts with <c>-S</c> (SecureMigration resumes it only after the commit).</summary>
    bool DestinationPaused { get; }

    /// <summary>Starts what runs for the whole benchmark (tunnel ends, an agent).</summary>
    /// <param name="context">Where files go and which trials will come.</param>
    Task StartAsync(MigrationBenchmarkContext context);

    /// <summary>Readies both QEMUs for one trial; not timed.</summary>
    Task PrepareAsync(MigrationHosts hosts);

    /// <summary>Starts the migration; the trial's clock starts just before.</summary>
    Task BeginAsync(MigrationHosts hosts);

    /// <summary>Waits until the migration has finished on the source and returns what QEMU said about it.</summary>
    Task<QemuMigrationInfo> EndAsync(MigrationHosts hosts);

    /// <summary>Gets the processes besides both QEMUs that carry the stream and run when a trial begins (tunnel ends, an agent);
    /// none when QEMU carries it itself.</summary>
    IReadOnlyList<int> RelayProcesses => [];

    /// <summary>Waits until the relays that started or exit within the last trial have exited and returns what they used
    /// (from wait4); zero when there are none.</summary>
    Task<CpuUsage> ExitedRelayUsageAsync() => Task.FromResult(CpuUsage.Zero);
}
