using System.CommandLine;
using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Cli.Terminal;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Commands;

/// <summary><c>secmig admission reset</c>: clears breakers, backoff and retry budgets of a real host's work directory.</summary>
internal static class AdmissionCommand
{
    public static Command Create()
    {
        var command = new Command("admission", "Inspects and repairs the admission state (thrash defense) kept in a host's --work " +
            "directory.");
        command.Subcommands.Add(CreateReset());
        return command;
    }

    private static Command CreateReset()
    {
        Option<string> work = WorkOption.Create("The --work directory of the agent or migrate whose admission state to reset.");
        var vm = new Option<string?>("--vm") { Description = "Reset only this VM (its breaker, backoff and retry budget); without it, " +
            "everything." };
        var command = new Command("reset", """
            Clears circuit breakers, backoff and retry budgets once the cause of the failures is fixed, so the next
            'secmig migrate' runs at once. The history of moves (dwell time, ping-pong detection) is kept. The reset
            is written to the host's audit log with the operator's name. The agent or migrate that uses the
            directory must not be running (its admission state is in its memory).

            Examples:
              secmig admission reset --work /var/lib/secmig --vm vm1
              secmig admission reset --work /var/lib/secmig
            """)
        { work, vm };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string directory = Path.GetFullPath(parse.GetValue(work)!);
            string? vmId = parse.GetValue(vm);
            if (!Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException($"The work directory '{directory}' does not exist; pass the --work of the agent or " +
                    $"migrate whose admission state to reset.");
            }

            ConsoleStyle style = ConsoleStyle.Standard;
            string statePath = Path.Combine(directory, "admission.state");
            if (!File.Exists(statePath))
            {
                style.Line($"admission reset: '{directory}' holds no admission state; nothing holds migrations back.");
                return ExitCodes.Success;
            }

            using HostStateLock held = StateInUseException.Acquire(directory);

            // The audit log first: a log that fails verification (or a host key that cannot be read) stops the reset
            // before the state changes, so no reset goes unrecorded.
            using HostKey key = HostKey.LoadOrCreate(Path.Combine(directory, "host.key"));
            using AuditLog audit = AuditLog.OpenContinuing(Path.Combine(directory, "audit.log"), Environment.MachineName, key);
            var store = new FileAdmissionStateStore(statePath);
            AdmissionController admission = await AdmissionController.RestoreAsync(new AdmissionOptions(), store,
                cancellationToken: cancellationToken);
            IReadOnlyList<string> cleared = admission.Reset(vmId);
            await admission.SaveAsync(store, cancellationToken);
            string what = cleared.Count == 0 ? "nothing held migrations back" : "cleared " + string.Join("; ", cleared);
            await audit.AppendAsync(null, vmId, "admission-reset", $"by '{Environment.UserName}': {what}", CancellationToken.None);
            style.Line($"admission reset{(vmId is null ? string.Empty : $" {vmId}")}: {what}.");
            return ExitCodes.Success;
        });
        return command;
    }
}
