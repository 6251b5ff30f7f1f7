using System.CommandLine;

namespace SecureMigration.Cli.Commands;

/// <summary>The <c>--work DIR</c> option: the state directory of a demo cluster or of a real host, whichever the command reads.</summary>
internal static class WorkOption
{
    /// <summary>What --work is for the commands that read a demo cluster or a real host's state.</summary>
    public const string ClusterOrHost = "The work directory: a demo cluster's (secmig demo --work) or a real host's (the --work of " +
        "secmig agent or migrate).";

    public static Option<string> Create(string description = ClusterOrHost) => new("--work")
    {
        Description = description,
        Required = true,
    };
}
