using System.CommandLine;
using SecureMigration;
using SecureMigration.Channel;
using SecureMigration.Cli;
using SecureMigration.Cli.Commands;

var root = new RootCommand("""
    secmig: makes virtual-machine live migration safe. Mutually authenticated TLS 1.3 channels for any
    hypervisor's migration stream, refused impostors, and more to come.

    Start with: secmig demo
    """);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(PkiCommand.Create());
root.Subcommands.Add(TunnelCommand.Create());

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (HandshakeFailedException e)
{
    Console.Error.WriteLine($"secmig: refused ({e.Reason}): {e.Message}");
    return ExitCodes.Refused;
}
catch (MigrationException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}
