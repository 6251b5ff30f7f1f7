using System.CommandLine;

namespace SecureMigration.Cli.Commands;

/// <summary>The <c>--work DIR</c> option of the commands that inspect or repair a cluster's state.</summary>
internal static class WorkOption
{
    public static Option<string> Create() => new("--work")
    {
        Description = "The work directory of the cluster (as given to 'secmig demo --work').",
        Required = true,
    };
}
