using System.CommandLine;
using System.Globalization;
using SecureMigration.Cli.Cluster;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Cli.Commands;

internal static class SimulateCommand
{
    public static Command Create()
    {
        var simulate = new Command("simulate", "Runs single operations on the simulated cluster of a work directory, for crash and " +
            "recovery testing.");
        simulate.Subcommands.Add(Migrate());
        return simulate;
    }

    private static Command Migrate()
    {
        Option<string> work = WorkOption.Create("The work directory of the demo cluster (as given to 'secmig demo --work').");
        var vm = new Option<string>("--vm") { Description = "The VM to migrate (created on source.demo if the cluster does not know it).",
            DefaultValueFactory = _ => "demo-vm" };
        var size = new Option<int>("--image-mib") { Description = "Memory size of a VM created here, in MiB.",
            DefaultValueFactory = _ => 16 };
        var holdAt = new Option<string?>("--hold-at")
        {
            Description = "Stop dead right after HOST journals PHASE (HOST:PHASE, for example destination.demo:Committed), so a test can " +
                "kill the process there.",
        };
        var holdAfterBytes = new Option<long?>("--hold-after-bytes")
        {
            Description = "Stop dead once the source has sent at least N bytes of the stream, so a test can kill the process inside the " +
                "transfer.",
        };
        var hooks = new Option<string?>("--hooks")
        {
            Description = "A directory whose pre-migrate/ and post-migrate/ executables run on both hosts, with the migration's facts in " +
                "SECMIG_* environment variables; a non-zero exit vetoes.",
        };
        var command = new Command("migrate", """
            Migrates a VM of the simulated cluster in WORK from the host that owns it to the other, printing one
            line per event for scripts: 'phase HOST PHASE', 'bytes HOST N' (the first sample, then one per 4 MiB), 'holding HOST PHASE' or
            'holding HOST N bytes', and at the end
            'result HOST STATUS REASON'. Kill it anywhere, then run 'secmig recover --work WORK'.

            Examples:
              secmig simulate migrate --work ./cluster
              secmig simulate migrate --work ./cluster --hold-at source.demo:SwitchingOver
              secmig simulate migrate --work ./cluster --hooks ./hooks
            """)
        { work, vm, size, holdAt, holdAfterBytes, hooks };
        command.SetAction(async (parse, cancellationToken) =>
        {
            (string Host, MigrationPhase Phase)? hold = ParseHold(parse.GetValue(holdAt));
            int mib = parse.GetValue(size);
            if (mib is < 1 or > 65536)
            {
                Console.Error.WriteLine($"secmig: --image-mib is {mib}; it must be 1 to 65536.");
                return ExitCodes.InvalidInput;
            }

            await using SimulatedCluster cluster = await SimulatedCluster.OpenAsync(parse.GetValue(work)!, create: true,
                parse.GetValue(hooks));
            string vmId = parse.GetValue(vm)!;
            await cluster.EnsureVmAsync(vmId, mib * 1024L * 1024L, cancellationToken);
            string owner = (await cluster.Registry.GetAsync(vmId, cancellationToken))!.Owner;
            string other = SimulatedCluster.HostNames.First(h => h != owner);
            long? holdBytes = parse.GetValue(holdAfterBytes);
            (MigrationResult source, MigrationResult? destination) = await cluster.MigrateAsync(vmId, ClusterAttack.None,
                new EventPrinter(owner, hold, holdBytes), new EventPrinter(other, hold, holdBytes: null), cancellationToken);
            Console.WriteLine($"result {owner} {source.Status} {source.Reason}");
            Console.WriteLine($"result {other} {destination?.Status.ToString() ?? "NeverStarted"} {destination?.Reason}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static (string Host, MigrationPhase Phase)? ParseHold(string? value)
    {
        if (value is null)
        {
            return null;
        }

        string[] parts = value.Split(':');
        if (parts.Length != 2 || !SimulatedCluster.HostNames.Contains(parts[0]) || !Enum.TryParse(parts[1], out MigrationPhase phase))
        {
            throw new ArgumentException($"--hold-at is '{value}'; use HOST:PHASE with HOST one of " +
                $"{string.Join(", ", SimulatedCluster.HostNames)} and PHASE one of {string.Join(", ", Enum.GetNames<MigrationPhase>())}.");
        }

        return (parts[0], phase);
    }

    /// <summary>
    /// Prints each phase as one flushed line, and the bytes moved each time another 4 MiB went (not every sample: a
    /// migration reports thousands); holds the calling thread (the migration's own) forever at the chosen checkpoint, or
    /// once <paramref name="holdBytes"/> were moved.
    /// </summary>
    private sealed class EventPrinter(string host, (string Host, MigrationPhase Phase)? hold,
        long? holdBytes) : IProgress<MigrationProgress>
    {
        private const long BytesPerLine = 4 << 20;
        private MigrationPhase? _phase;
        private long _printedBytes;

        public void Report(MigrationProgress value)
        {
            if (value.Phase != _phase)
            {
                _phase = value.Phase;
                Write($"phase {host} {value.Phase}");
                if (hold == (host, value.Phase))
                {
                    Write($"holding {host} {value.Phase}");
                    Thread.Sleep(Timeout.Infinite);
                }
            }
            else if (value.Bytes > 0 && (_printedBytes == 0 || value.Bytes - _printedBytes >= BytesPerLine))
            {
                _printedBytes = value.Bytes;
                Write(string.Create(CultureInfo.InvariantCulture, $"bytes {host} {value.Bytes}"));
            }

            if (value.Phase == MigrationPhase.Transferring && value.Bytes >= holdBytes)
            {
                Write(string.Create(CultureInfo.InvariantCulture, $"holding {host} {value.Bytes} bytes"));
                Thread.Sleep(Timeout.Infinite);
            }
        }

        private static void Write(string line)
        {
            lock (Console.Out)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }
    }
}
