using System.CommandLine;
using System.Text.Json;
using SecureMigration.Audit;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Commands;

internal static class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "Checks hash-chained audit logs.");
        var files = new Argument<string[]>("log") { Description = "Audit log files (for example WORK/hosts/HOST/audit.log).", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var verify = new Command("verify", """
            Verifies that every line of each audit log is present, unedited and in order. Exit code 0 when all are
            intact, 1 when one is not (the first broken line is named), 2 when a file cannot be read.

            Examples:
              secmig audit verify ./cluster/hosts/source.demo/audit.log
              secmig audit verify --json ./cluster/hosts/*/audit.log
            """)
        { files, json };
        verify.SetAction(parse =>
        {
            var results = new List<(string File, AuditVerification Verification)>();
            foreach (string file in parse.GetValue(files)!)
            {
                if (!File.Exists(file))
                {
                    Console.Error.WriteLine($"secmig: the audit log '{file}' does not exist.");
                    return ExitCodes.InvalidInput;
                }

                results.Add((file, AuditLog.Verify(file)));
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    results.Select(r => new { file = r.File, intact = r.Verification.IsIntact, entries = r.Verification.Entries.Count, problem = r.Verification.Problem, tornTail = r.Verification.TornTail }),
                    CliJson.Options));
            }
            else
            {
                foreach ((string file, AuditVerification verification) in results)
                {
                    Console.WriteLine(verification.IsIntact
                        ? $"{file}: intact, {verification.Entries.Count} entries{(verification.TornTail ? " (a torn last line from a crash is not counted)" : string.Empty)}"
                        : $"{file}: BROKEN: {verification.Problem}");
                }
            }

            return results.All(r => r.Verification.IsIntact) ? ExitCodes.Success : ExitCodes.Failure;
        });
        audit.Subcommands.Add(verify);
        return audit;
    }
}
