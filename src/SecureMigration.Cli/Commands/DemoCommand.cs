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
        var command = new Command("demo", """
            Runs the whole story on embedded defaults, with no setup: a throwaway PKI, a mutually authenticated
            TLS 1.3 channel on loopback, a simulated VM memory image moved and verified, and spoofing attempts
            refused. Exits 0 only when every defense held.

            Example:
              secmig demo
              secmig demo --image-mib 1024
            """)
        {
            size,
        };
        command.SetAction((parse, cancellationToken) =>
            new DemoScenario(ConsoleStyle.Standard, parse.GetValue(size) * 1024L * 1024L).RunAsync(cancellationToken));
        return command;
    }
}
