using System.CommandLine;
using SecureMigration;
using SecureMigration.Channel;
using SecureMigration.Cli;
using SecureMigration.Cli.Commands;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination.Drivers;

// Socket continuations run on the thread that saw the socket ready, not queued to the thread pool: a relay (agent,
// tunnel, migrate) waits on its sockets all the time, and each hop woke one or two pool workers per readiness event
// (issue 19: 37 wake-ups per MiB on the agent pair, 7 inline, and 0.3 CPU s/GiB less). Read once, at the first socket;
// an operator's own setting (0 to turn it off) wins.
const string inlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(inlineSocketCompletions) is null)
{
    Environment.SetEnvironmentVariable(inlineSocketCompletions, "1");
}

var root = new RootCommand($"""
    secmig: makes virtual-machine live migration safe. Mutually authenticated TLS 1.3 channels for any
    hypervisor's migration stream, a thrash defense, checkpointed migrations that end with exactly one
    runnable copy of the VM whatever is cut, dropped or crashed, and a verified block sanitizer for the residue.

    Start with: secmig demo

    {ExitCodes.Help}
    """);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(PkiCommand.Create());
root.Subcommands.Add(TunnelCommand.Create());
root.Subcommands.Add(BudgetCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(RecoverCommand.Create());
root.Subcommands.Add(AuditCommand.Create());
root.Subcommands.Add(AdmissionCommand.Create());
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(SanitizeCommand.Create());
root.Subcommands.Add(AgentCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
var metrics = new Option<bool>("--metrics")
{
    Description = "When the command ends, print what SecureMigration measured (docs/telemetry.md) to standard error.",
    Recursive = true,
};
root.Options.Add(metrics);

// 'secmig help [COMMAND…]' is 'secmig [COMMAND…] --help', as git and dotnet take it.
if (args is ["help", .. string[] topic])
{
    args = [.. topic, "--help"];
}

try
{
    args = AgentConfiguration.ExpandCommandLine(args);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or FormatException
    or InvalidOperationException)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}

ParseResult parse = root.Parse(args);

// System.CommandLine shows a parent's arguments in a subcommand's usage and help ('secmig sanitize <path> verify-cert',
// with <path> "the file to overwrite"); no subcommand of secmig takes its parent's arguments, so they are hidden there.
for (System.CommandLine.Parsing.SymbolResult? parent = parse.CommandResult.Parent;
    parent is System.CommandLine.Parsing.CommandResult command; parent = command.Parent)
{
    foreach (Argument argument in command.Command.Arguments)
    {
        argument.Hidden = true;
    }
}
if (parse.Errors.Count > 0)
{
    foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
    {
        Console.Error.WriteLine($"secmig: {error.Message}");
    }

    var path = new List<string>();
    for (System.CommandLine.Parsing.SymbolResult? result = parse.CommandResult; result is System.CommandLine.Parsing.CommandResult command;
        result = command.Parent)
    {
        path.Insert(0, command.Command == root ? "secmig" : command.Command.Name);
    }

    Console.Error.WriteLine($"Run '{string.Join(' ', path)} --help' for usage and examples.");
    return ExitCodes.InvalidInput;
}

using MetricsReport? measured = parse.GetValue(metrics) ? MetricsReport.Start() : null;
try
{
    // Ctrl-C and SIGTERM cancel the action's token, so a wipe or a migration stops cleanly and reports; 2.0.0 leaves this off by default.
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(10),
    });
}
catch (HandshakeFailedException e)
{
    Console.Error.WriteLine($"secmig: refused ({e.Reason}): {e.Message}");
    return ExitCodes.Refused;
}
catch (SecureMigration.Cli.Control.UntrustedAgentException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.Refused;
}
catch (HypervisorException e)
{
    // QEMU failing a step, or a VM that is missing or in the wrong state, is a failure of the command (exit 1), as it was
    // while the QMP and migration errors were I/O errors (ADR 0014); a VM error no longer escapes as a stack trace.
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.Failure;
}
catch (MigrationException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}
catch (Exception e) when (e is ArgumentException or FormatException or InvalidDataException or FileNotFoundException
    or DirectoryNotFoundException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}
catch (StateInUseException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.InvalidInput;
}
catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode is System.Net.Sockets.SocketError.AddressAlreadyInUse
    or System.Net.Sockets.SocketError.AddressNotAvailable or System.Net.Sockets.SocketError.AccessDenied
    or System.Net.Sockets.SocketError.InvalidArgument)
{
    Console.Error.WriteLine($"secmig: cannot listen there ({e.Message}): another process may hold the port (another secmig?), " +
        "or the address is not this host's; choose another --listen address or port.");
    return ExitCodes.InvalidInput;
}
catch (System.Net.Sockets.SocketException e)
{
    Console.Error.WriteLine($"secmig: a network operation failed ({e.Message}); check the addresses given and the network.");
    return ExitCodes.Failure;
}
catch (IOException e)
{
    Console.Error.WriteLine($"secmig: {e.Message}");
    return ExitCodes.Failure;
}
finally
{
    measured?.WriteTo(Console.Error);
}
