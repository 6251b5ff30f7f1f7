using System.Globalization;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>Migrations asked of one agent pair at once: what they moved, in how long, and how many ran at once at most.</summary>
internal sealed record AgentThroughput(int Migrations, long Bytes, TimeSpan Wall, int MostAtOnce)
{
    public double MiBPerSecond => Bytes / 1048576.0 / Wall.TotalSeconds;

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"| {Migrations} | {Bytes / 1048576.0:0} | {Wall.TotalSeconds:0.000} | {MiBPerSecond:0} | {MostAtOnce} |");
}
