using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SecureMigration.Admission;
using SecureMigration.Cli.Simulation;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Commands;

internal static class BudgetCommand
{
    public static Command Create()
    {
        var budget = new Command("budget", "Tunes the thrash defense (retry budgets, caps, dwell time) before deployment.");
        budget.Subcommands.Add(Simulate());
        return budget;
    }

    private static Command Simulate()
    {
        var attack = new Option<string>("--attack") { Description = "The workload: none (calm), thrash or ping-pong.",
            DefaultValueFactory = _ => "none" };
        attack.AcceptOnlyFromAmong("none", "thrash", "ping-pong");
        var cutRate = new Option<double>("--cut-rate") { Description = "Share of migrations the thrash attacker cuts, 0 to 1.",
            DefaultValueFactory = _ => 0.9 };
        var vms = new Option<int>("--vms") { Description = "Number of VMs.", DefaultValueFactory = _ => 50 };
        var hosts = new Option<int>("--hosts") { Description = "Number of hosts (at least 2).", DefaultValueFactory = _ => 6 };
        var duration = new Option<double>("--duration") { Description = "Simulated minutes.", DefaultValueFactory = _ => 60 };
        var migrationSeconds = new Option<double>("--migration-seconds") { Description = "How long one migration takes.",
            DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same summary.",
            DefaultValueFactory = _ => 1 };
        var percent = new Option<double>("--budget-percent") { Description = "Retries allowed per first attempt (0.2 = 20 %), per VM, " +
            "per host pair and globally.", DefaultValueFactory = _ => 0.2 };
        var floor = new Option<double>("--budget-floor") { Description = "Retries per second always allowed per VM and per host pair.",
            DefaultValueFactory = _ => 0.05 };
        var window = new Option<double>("--budget-window") { Description = "Seconds a deposit or withdrawal counts (the budget's TTL).",
            DefaultValueFactory = _ => 60 };
        var maxConcurrent = new Option<int>("--max-concurrent") { Description = "Concurrent migrations in the cluster.",
            DefaultValueFactory = _ => 5 };
        var dwell = new Option<double>("--dwell") { Description = "Minutes a VM stays put before an automatic migration may move it.",
            DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var command = new Command("simulate", """
            Runs the admission policy against a simulated cluster on a fake clock and prints what it admitted and
            denied. Use it to choose budgets before deploying them.

            Examples:
              secmig budget simulate --attack thrash --cut-rate 0.9 --duration 10
              secmig budget simulate --attack ping-pong --vms 20 --json
              secmig budget simulate --attack thrash --budget-percent 0.1 --budget-floor 0.01
            """)
        { attack, cutRate, vms, hosts, duration, migrationSeconds, seed, percent, floor, window, maxConcurrent, dwell, json };
        command.SetAction(parse =>
        {
            var errors = new List<string>();
            Require(errors, parse.GetValue(cutRate) is >= 0 and <= 1, $"--cut-rate is {parse.GetValue(cutRate)}; it must be 0 to 1.");
            Require(errors, parse.GetValue(vms) is >= 1 and <= 100_000, $"--vms is {parse.GetValue(vms)}; it must be 1 to 100,000.");
            Require(errors, parse.GetValue(hosts) is >= 2 and <= 10_000, $"--hosts is {parse.GetValue(hosts)}; it must be 2 to 10,000.");
            Require(errors, parse.GetValue(duration) is > 0 and <= 7 * 24 * 60, $"--duration is {parse.GetValue(duration)}; it must be " +
                $"above 0 and at most a week of minutes.");
            Require(errors, parse.GetValue(migrationSeconds) is >= 1 and <= 86_400,
                $"--migration-seconds is {parse.GetValue(migrationSeconds)}; it must be 1 to 86,400.");
            Require(errors, parse.GetValue(percent) >= 0, $"--budget-percent is {parse.GetValue(percent)}; it must not be negative.");
            Require(errors, parse.GetValue(floor) >= 0, $"--budget-floor is {parse.GetValue(floor)}; it must not be negative.");
            Require(errors, parse.GetValue(window) >= 1, $"--budget-window is {parse.GetValue(window)}; it must be at least 1 second.");
            Require(errors, parse.GetValue(maxConcurrent) >= 1, $"--max-concurrent is {parse.GetValue(maxConcurrent)}; it must be at " +
                $"least 1.");
            Require(errors, parse.GetValue(dwell) >= 0, $"--dwell is {parse.GetValue(dwell)}; it must not be negative.");
            if (errors.Count > 0)
            {
                errors.ForEach(e => Console.Error.WriteLine($"secmig: {e}"));
                return ExitCodes.InvalidInput;
            }

            var options = new AdmissionOptions
            {
                MaxConcurrentMigrations = parse.GetValue(maxConcurrent),
                MinDwellTime = TimeSpan.FromMinutes(parse.GetValue(dwell)),
            };
            foreach (RetryBudgetOptions budget in new[] { options.VmRetryBudget, options.HostPairRetryBudget })
            {
                budget.PercentCanRetry = parse.GetValue(percent);
                budget.MinRetriesPerSecond = parse.GetValue(floor);
                budget.TimeToLive = TimeSpan.FromSeconds(parse.GetValue(window));
            }

            options.GlobalRetryBudget.PercentCanRetry = parse.GetValue(percent);
            options.GlobalRetryBudget.TimeToLive = TimeSpan.FromSeconds(parse.GetValue(window));
            var scenario = parse.GetValue(attack) switch
            {
                "thrash" => SimulationScenario.Thrash,
                "ping-pong" => SimulationScenario.PingPong,
                _ => SimulationScenario.Calm,
            };
            var settings = new SimulationSettings(scenario, parse.GetValue(cutRate), parse.GetValue(vms), parse.GetValue(hosts),
                TimeSpan.FromMinutes(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(migrationSeconds)),
                    parse.GetValue(seed));
            SimulationSummary summary = new BudgetSimulation(options, settings).Run();
            Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(summary, CliJson.Options) : Table(settings, summary));
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Require(List<string> errors, bool condition, string message)
    {
        if (!condition)
        {
            errors.Add(message);
        }
    }

    private static string Table(SimulationSettings settings, SimulationSummary summary)
    {
        string cutRate = settings.Scenario == SimulationScenario.Thrash
            ? string.Create(CultureInfo.InvariantCulture, $" (cut rate {settings.CutRate:0.##})")
            : string.Empty;
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"Simulated {settings.Duration.TotalMinutes:0} min, {settings.Vms} VMs on " +
                $"{settings.Hosts} hosts, scenario {settings.Scenario}{cutRate}, seed {settings.Seed}"),
            string.Empty,
            $"  attempts                  {summary.Attempts,8}",
            $"  first attempts admitted   {summary.FirstAttemptsAdmitted,8}",
            $"  retries admitted          {summary.RetriesAdmitted,8}",
            $"  migrations succeeded      {summary.Succeeded,8}",
            $"  migrations cut            {summary.Cut,8}",
            $"  ping-pong cycles stopped  {summary.PingPongCyclesStopped,8}",
            $"  longest wait              {summary.LongestWait,8:hh\\:mm\\:ss}",
            string.Create(CultureInfo.InvariantCulture, $"  per-VM retry floor        {summary.RetryBoundPerWindow,8:0.##} per window"),
        };
        foreach ((string title, SortedDictionary<string, long> denials) in new[] { ("retries denied", summary.RetriesDenied),
            ("first attempts denied", summary.FirstAttemptsDenied) })
        {
            lines.Add(string.Empty);
            lines.Add($"  {title}:{(denials.Count == 0 ? " none" : string.Empty)}");
            lines.AddRange(denials.Select(d => $"    {d.Key,-24}{d.Value,8}"));
        }

        return string.Join(Environment.NewLine, lines);
    }
}
