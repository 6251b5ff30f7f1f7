using System.CommandLine;
using SecureMigration.Cli.Demo;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Commands;

internal static class DemoCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--image-mib")
        {
            Description = "Size of the simulated VM memory image, in MiB.",
            DefaultValueFactory = _ => 256,
        };
        size.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 65536)
            {
                result.AddError($"--image-mib is {value}; it must be 1 to 65536.");
            }
        });
        var work = new Option<string?>("--work")
        {
            Description = "Keep the cluster (PKI, registry, journals, images, audit logs) in this directory; a temporary one by default. " +
                "Run 'secmig status' or 'secmig recover' on it later.",
        };
        var command = new Command("demo", """
            Runs the whole story on a simulated two-host cluster, with no setup: a throwaway PKI, a coordinated live
            migration over a mutually authenticated TLS 1.3 channel, then one scene per attack (spoofing,
            thrashing, interruption, dual copy) with its defense and the stable end state, then the residue and the
            audit trail. Exits 0 only when every defense held.

            Examples:
              secmig demo
              secmig demo --image-mib 1024
              secmig demo --work ./cluster && secmig status --work ./cluster
            """)
        {
            size,
            work,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? chosen = parse.GetValue(work);
            string directory = chosen ?? Directory.CreateTempSubdirectory("secmig-demo-").FullName;
            try
            {
                return await new DemoScenario(ConsoleStyle.Standard, directory, keepsWork: chosen is not null,
                    parse.GetValue(size) * 1024L * 1024L)
                    .RunAsync(cancellationToken);
            }
            finally
            {
                if (chosen is null)
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        });
        return command;
    }
}
