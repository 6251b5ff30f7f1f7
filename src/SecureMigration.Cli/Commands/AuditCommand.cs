using System.CommandLine;
using System.Text.Json;
using SecureMigration.Audit;
using SecureMigration.Cli.Terminal;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Commands;

internal static class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "Checks MAC-chained audit logs.");
        var files = new Argument<string[]>("log") { Description = "Audit log files (for example WORK/hosts/HOST/audit.log).",
            Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var hostKey = new Option<FileInfo>("--host-key") { Description = "The key of the host that wrote the logs. Default: host.key " +
            "beside each log (where secmig keeps it)." };
        var verify = new Command("verify", """
            Verifies that every line of each audit log is present, unedited, unforged and in order: each line carries an
            HMAC under the host's own key, which whoever can write the file does not have. Exit code 0 when all are
            intact, 1 when one is not (the first broken line and its host are named), 2 when a file cannot be read.

            Examples:
              secmig audit verify ./cluster/hosts/source.demo/audit.log
              secmig audit verify --json ./cluster/hosts/*/audit.log
            """)
        { files, json, hostKey };
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

                string keyFile = parse.GetValue(hostKey)?.FullName ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!,
                    "host.key");
                if (!File.Exists(keyFile))
                {
                    Console.Error.WriteLine($"secmig: no host key at '{keyFile}' to check '{file}' with; pass --host-key FILE (the " +
                        $"host.key of the host that wrote the log).");
                    return ExitCodes.InvalidInput;
                }

                using HostKey key = HostKey.LoadOrCreate(keyFile);
                results.Add((file, AuditLog.Verify(file, key)));
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(
                    results.Select(r => new { file = r.File, intact = r.Verification.IsIntact, entries = r.Verification.Entries.Count,
                        problem = r.Verification.Problem, tornTail = r.Verification.TornTail }),
                    CliJson.Options));
            }
            else
            {
                foreach ((string file, AuditVerification verification) in results)
                {
                    Console.WriteLine(verification.IsIntact
                        ? $"{file}: intact, {verification.Entries.Count} " +
                            $"entries{(verification.TornTail ? " (a torn last line from a crash is not counted)" : string.Empty)}"
                        : $"{file}: BROKEN: {verification.Problem}");
                }
            }

            return results.All(r => r.Verification.IsIntact) ? ExitCodes.Success : ExitCodes.Failure;
        });
        audit.Subcommands.Add(verify);
        return audit;
    }
}
