using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using SecureMigration.Qemu.Qmp;
using SecureMigration.TestGuests;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Docs;

/// <summary>
/// Runs a documented walkthrough's commands as written, each on its host (<see cref="HostNetwork"/>): 'secmig' is
/// the tool this build made, on PATH. The only changes to a command are the substitutions a single test machine
/// needs, and nothing else:
/// <list type="bullet">
/// <item>the system paths become paths under the test's directory: <c>/var/lib/secmig</c> one per host,
/// <c>/shared/secmig/ownership</c> one for both, <c>/run/secmig/</c> where the monitors are;</item>
/// <item>the <c>…</c> of a QEMU command line becomes the test guest's arguments (kernel, RAM file, a monitor for the
/// test, daemonized);</item>
/// <item><c>--allow-user qemu</c> names the user QEMU runs as here, root.</item>
/// </list>
/// The source's running VM, which the docs assume, is started by the runner; a comment that tells the reader to type
/// a command into the QEMU monitor is typed into the source VM's monitor.
/// </summary>
internal sealed class DocRunner : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _root = new();
    private readonly HostNetwork _network;
    private readonly string _bin;
    private readonly string _run;
    private readonly string _image;
    private readonly List<ExternalProcess> _services = [];
    private readonly List<GuestQemu> _vms = [];

    private DocRunner(HostNetwork network, string image)
    {
        _network = network;
        _image = image;
        _bin = Directory.CreateDirectory(_root.File("bin")).FullName;
        _run = Directory.CreateDirectory(_root.File("run")).FullName;
        string secmig = Path.Combine(_bin, "secmig");
        File.WriteAllText(secmig, $"#!/bin/sh\nexec dotnet '{Secmig.Dll}' \"$@\"\n");
        File.SetUnixFileMode(secmig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Gets the QEMU the destination's documented command started.</summary>
    public GuestQemu? DestinationVm { get; private set; }

    /// <summary>Gets the source's running VM.</summary>
    public GuestQemu? SourceVm { get; private set; }

    /// <summary>Gets what each command that ran to its end printed, in order.</summary>
    public List<(DocStep Step, string Output)> Finished { get; } = [];

    public static async Task<DocRunner> CreateAsync() =>
        new(await HostNetwork.CreateAsync("src.example", "dst.example"), await TestGuest.ImageAsync());

    /// <summary>Runs the steps in order; fails naming the step that did not do what the document says.</summary>
    public async Task RunAsync(IReadOnlyList<DocStep> steps)
    {
        foreach (DocStep step in steps)
        {
            if (step.Host == DocHost.Source && SourceVm is null)
            {
                await StartSourceVmAsync(steps);
            }

            if (step.IsComment)
            {
                await FollowCommentAsync(step);
            }
            else if (step.Command.StartsWith("alias secmig=", StringComparison.Ordinal))
            {
                // The alias runs the tool from the sources; here 'secmig' on PATH is the tool this build made.
            }
            else if (IsService(step.Command))
            {
                await StartServiceAsync(step);
            }
            else
            {
                (int exit, string output) = await ProcessRunner.RunAsync("ip", HostNetwork.On(HostName(step.Host), _root.Path, _bin,
                    Substitute(step)), Patience);
                Assert.True(exit == 0, $"'{step.Command}' on the {step.Host} exited {exit}:\n{output}");
                Finished.Add((step, output));
            }
        }
    }

    /// <summary>Returns a VM's run state through the test's monitor.</summary>
    public static async Task<string> StatusAsync(GuestQemu vm)
    {
        await using QmpClient qmp = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(vm.TestMonitor));
        return (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ExternalProcess service in _services)
        {
            await service.DisposeAsync();
        }

        foreach (GuestQemu vm in _vms.Where(vm => File.Exists(vm.PidFile)))
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadAllText(vm.PidFile).Trim(), CultureInfo.InvariantCulture))
                    .Kill();
            }
            catch (ArgumentException)
            {
                // QEMU is gone already (the migration quit it).
            }
        }

        await _network.DisposeAsync();
        _root.Dispose();
    }

    private static bool IsService(string command) =>
        command.StartsWith("secmig agent ", StringComparison.Ordinal) || command.StartsWith("secmig tunnel ", StringComparison.Ordinal);

    private string HostName(DocHost host) => _network.Namespaces[host == DocHost.Source ? 0 : 1];

    /// <summary>The command with the single-machine substitutions (see the class summary), for its host.</summary>
    private string Substitute(DocStep step)
    {
        string host = step.Host.ToString().ToLowerInvariant();
        string command = step.Command
            .Replace("/var/lib/secmig", _root.File($"{host}/var/lib/secmig"), StringComparison.Ordinal)
            .Replace("/shared/secmig/ownership", _root.File("shared/secmig/ownership"), StringComparison.Ordinal)
            .Replace("/run/secmig/", _run + "/", StringComparison.Ordinal)
            .Replace("--allow-user qemu", "--allow-user root", StringComparison.Ordinal);
        if (command.StartsWith("qemu-system-x86_64 …", StringComparison.Ordinal))
        {
            Assert.Equal(DocHost.Destination, step.Host);
            Assert.Null(DestinationVm);
            DestinationVm = Guest(_root.File("destination-vm"), "vm1");
            command = command.Replace("…", string.Join(' ', DestinationVm.Arguments(_image, agentMonitor: false)),
                StringComparison.Ordinal);
        }

        Assert.DoesNotContain("…", command, StringComparison.Ordinal);
        return command;
    }

    private GuestQemu Guest(string directory, string name)
    {
        Directory.CreateDirectory(directory);
        var vm = new GuestQemu(directory, name, 64, Incoming: false, Paused: false, SharedMemoryFile: true);
        _vms.Add(vm);
        return vm;
    }

    /// <summary>
    /// Starts the VM the source runs before the walkthrough migrates it, on the source host: its SecureMigration
    /// monitor is where the walkthrough's 'secmig migrate --qmp' points, if it does.
    /// </summary>
    private async Task StartSourceVmAsync(IReadOnlyList<DocStep> steps)
    {
        string? qmp = steps.Where(s => s.Host == DocHost.Source).Select(s => Option(s.Command, "--qmp")).FirstOrDefault(q => q is not null);
        string monitor = qmp is null ? _root.File("source-vm/vm1.qmp") : Substitute(new DocStep(DocHost.Source, qmp));
        SourceVm = Guest(Path.GetDirectoryName(monitor)!, Path.GetFileNameWithoutExtension(monitor));
        (int exit, string output) = await ProcessRunner.RunAsync("ip",
            HostNetwork.On(_network.Namespaces[0], _root.Path, _bin, "qemu-system-x86_64 " + string.Join(' ', SourceVm.Arguments(_image))),
                Patience);
        Assert.True(exit == 0, $"the source's QEMU did not start: {output}");
        await using QmpClient test = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(SourceVm.TestMonitor));
        await GuestQemu.WaitUntilFilledAsync(test, Patience);
    }

    private static string? Option(string command, string name)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int at = Array.IndexOf(words, name);
        return at >= 0 && at + 1 < words.Length ? words[at + 1] : null;
    }

    private async Task StartServiceAsync(DocStep step)
    {
        ExternalProcess service = ExternalProcess.Start("ip", HostNetwork.On(HostName(step.Host), _root.Path, _bin,
            "exec " + Substitute(step)));
        _services.Add(service);
        string ready = step.Command.StartsWith("secmig agent ", StringComparison.Ordinal) ? "listening "
            : step.Command.StartsWith("secmig tunnel accept ", StringComparison.Ordinal) ? "accepting secure channels on "
            : "hypervisor connections to ";
        try
        {
            await service.WaitForAsync(ready);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"'{step.Command}' on the {step.Host} never printed '{ready}':\n{service.Output}");
        }
    }

    /// <summary>A comment that tells the reader to type into the QEMU monitor: typed into the source VM's, then the migration is waited
    /// for.</summary>
    private async Task FollowCommentAsync(DocStep step)
    {
        const string Monitor = "# in the QEMU monitor:";
        if (!step.Command.StartsWith(Monitor, StringComparison.Ordinal))
        {
            return;
        }

        await using QmpClient destination = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(DestinationVm!.TestMonitor));
        using QmpEventWatcher resumed = destination.WatchEvents("RESUME");
        await using QmpClient source = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(SourceVm!.TestMonitor));
        using QmpEventWatcher migration = source.WatchEvents("MIGRATION");
        await source.ExecuteAsync("migrate-set-capabilities", new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }),
        });
        string typed = step.Command[Monitor.Length..].Trim();
        string answer = (await source.ExecuteAsync("human-monitor-command", new JsonObject { ["command-line"] = typed })).GetString() ??
            string.Empty;
        Assert.True(answer.Length == 0, $"the QEMU monitor answered '{typed}' with: {answer}");
        string status;
        do
        {
            status = (await migration.ReadAsync(Patience)).Data.GetProperty("status").GetString()!;
        }
        while (status is not ("completed" or "failed" or "cancelled"));

        Assert.True(status == "completed", $"QEMU's migration after '{typed}' ended {status}; the services printed:\n" +
            string.Join('\n', _services.Select(service => service.Output)));
        await resumed.ReadAsync(Patience);
        Finished.Add((step, answer));
    }
}
