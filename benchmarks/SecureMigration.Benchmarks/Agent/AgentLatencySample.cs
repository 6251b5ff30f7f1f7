using System.Globalization;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>One migration asked of a warm agent, its intervals taken from when its lines reached the caller.</summary>
internal sealed record AgentLatencySample(TimeSpan Answered, TimeSpan ToTransferring, TimeSpan Handshake, TimeSpan Commit, TimeSpan Total,
    string Phases)
{
    /// <summary>
    /// Gets when QEMU's <c>migrate</c> began, from the API call: the SwitchingOver line's arrival (after QEMU's migration
    /// completed) less the migration's <c>total-time</c> as QEMU reports it (its 'qemu … total-ms=' line), so an upper bound.
    /// </summary>
    public TimeSpan ToMigrate { get; init; }

    /// <summary>Gets how long the source guest's QEMU took to answer one monitor command just before the round.</summary>
    public TimeSpan QmpAnswer { get; init; }

    public static AgentLatencySample From(TimeSpan answered, IReadOnlyList<(TimeSpan At, string Line)> lines, int exitCode)
    {
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"The migration ended with exit code {exitCode}:{Environment.NewLine}" +
                string.Join(Environment.NewLine, lines.Select(line => line.Line)));
        }

        TimeSpan Phase(string phase) => lines.First(line => line.Line.StartsWith("phase ", StringComparison.Ordinal) &&
            line.Line.EndsWith(" " + phase, StringComparison.Ordinal)).At;
        string qemu = lines.First(line => line.Line.StartsWith("qemu ", StringComparison.Ordinal)).Line;
        string totalMs = qemu.Split(' ').First(word => word.StartsWith("total-ms=", StringComparison.Ordinal))["total-ms=".Length..];
        return new AgentLatencySample(answered, Phase("Transferring"), Phase("ChannelOpen") - Phase("PreHooksDone"),
            Phase("Committed") - Phase("SwitchingOver"), lines[^1].At, string.Join(", ", lines
                .Where(line => line.Line.StartsWith("phase ", StringComparison.Ordinal))
                .Select(line => string.Create(CultureInfo.InvariantCulture, $"{line.Line.Split(' ')[^1]} {line.At.TotalMilliseconds:0}"))))
        {
            ToMigrate = Phase("SwitchingOver") - TimeSpan.FromMilliseconds(long.Parse(totalMs, CultureInfo.InvariantCulture)),
        };
    }

    public string Describe(int round) => string.Create(CultureInfo.InvariantCulture,
        $"round {round}: QMP {QmpAnswer.TotalMilliseconds:0.0} ms, answered {Answered.TotalMilliseconds:0.0} ms, " +
            $"to Transferring {ToTransferring.TotalMilliseconds:0.0} ms, to migrate {ToMigrate.TotalMilliseconds:0.0} ms, handshake {Handshake.TotalMilliseconds:0.0} ms, " +
            $"commit {Commit.TotalMilliseconds:0.0} ms, total {Total.TotalSeconds:0.000} s ({Phases} ms)");
}
