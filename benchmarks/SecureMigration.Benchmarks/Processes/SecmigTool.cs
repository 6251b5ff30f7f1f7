using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>
/// A secmig tool the benchmark runs: its binary (see <see cref="SecmigBinary"/>) and settings of the runtime given through
/// the environment (<c>DOTNET_…=…</c>), so two builds or two settings can run side by side in the same rounds.
/// </summary>
/// <param name="Binary">A secmig.dll or an installed tool's <c>secmig</c> command.</param>
/// <param name="Environment">Variables as <c>NAME=VALUE</c>, set for its processes only.</param>
internal sealed record SecmigTool(string Binary, IReadOnlyList<string> Environment)
{
    /// <summary>This tool as the shipped systemd unit runs the agent: with the unit's <c>Environment=</c> settings
    /// (<see cref="AgentUnit"/>), which this tool's own settings, set after them, override.</summary>
    public SecmigTool AsAgentService() => this with { Environment = [.. AgentUnit.Environment, .. Environment] };

    /// <summary>The program and arguments that run the tool with <paramref name="arguments"/> (through <c>env</c> when it has
    /// variables, which executes it in the same process).</summary>
    public (string Program, List<string> Arguments) Command(IEnumerable<string> arguments)
    {
        (string program, List<string> command) = SecmigBinary.Command(Binary, arguments);
        return Environment.Count == 0 ? (program, command) : ("/usr/bin/env", [.. Environment, program, .. command]);
    }
}
