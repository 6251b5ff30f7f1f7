namespace SecureMigration.Benchmarks.Processes;

/// <summary>
/// The systemd unit this repository ships for the agent (<c>src/SecureMigration.Cli/systemd/secmig-agent.service</c>): the
/// benchmarks run an agent with the runtime settings the unit gives it, as a host that installed the service runs it.
/// </summary>
internal static class AgentUnit
{
    private const string Assignment = "Environment=";

    /// <summary>Gets the unit's <c>Environment=</c> assignments, as <c>NAME=VALUE</c>.</summary>
    public static IReadOnlyList<string> Environment { get; } = Read();

    private static string[] Read()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string unit = Path.Combine(directory.FullName, "src", "SecureMigration.Cli", "systemd", "secmig-agent.service");
            if (File.Exists(unit))
            {
                return [.. File.ReadLines(unit).Select(line => line.Trim())
                    .Where(line => line.StartsWith(Assignment, StringComparison.Ordinal))
                    .SelectMany(line => line[Assignment.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))];
            }
        }

        throw new FileNotFoundException("The agent's systemd unit (src/SecureMigration.Cli/systemd/secmig-agent.service) was not " +
            "found above the benchmarks' directory; run them from this repository.");
    }
}
