using System.Net;
using System.Text.RegularExpressions;
using SecureMigration.Identity;
using SecureMigration.Testing.Network;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Qemu.Harness;

/// <summary>
/// Two hosts on one machine, as an operator would set them up: a source QEMU running the test guest, a destination
/// QEMU started with '-incoming defer -S', a 'secmig agent' process for the destination, and 'secmig migrate' runs
/// for the source, optionally through a network attacker. Credentials come from 'secmig pki'.
/// </summary>
internal sealed partial class LiveMigrationRig : IAsyncDisposable
{
    public const string VmId = "vm1";

    private readonly TempDirectory _dir = new();
    private readonly List<IAsyncDisposable> _owned = [];

    private LiveMigrationRig()
    {
        Registry = _dir.File("ownership");
    }

    public string Root => _dir.Path;

    public QemuVmProcess Source { get; private set; } = null!;

    public QemuVmProcess Destination { get; private set; } = null!;

    public ExternalProcess? Agent { get; private set; }

    public IPEndPoint? AgentEndPoint { get; private set; }

    public NetworkAttacker? Relay { get; private set; }

    /// <summary>Gets or sets the --registry both sides use: a directory in the rig by default, or an etcd cluster.</summary>
    public string Registry { get; set; }

    /// <summary>Gets or sets the network namespace 'secmig migrate' runs in (a host of a <see cref="HostNetwork"/>), or
    /// <see langword="null"/> for this one.</summary>
    public string? SourceHost { get; set; }

    /// <summary>Gets or sets the network namespace the agent runs in, or <see langword="null"/> for this one.</summary>
    public string? DestinationHost { get; set; }

    /// <summary>Gets or sets the agent's --listen address.</summary>
    public string AgentListen { get; set; } = "127.0.0.1:0";

    /// <summary>Gets the source's (migrate's) --work directory.</summary>
    public string SourceWork => _dir.File("src-work");

    /// <summary>Gets the agent's --work directory.</summary>
    public string DestinationWork => _dir.File("dst-work");

    public static async Task<LiveMigrationRig> CreateAsync(int memoryMiB = 64)
    {
        var rig = new LiveMigrationRig();
        await Secmig.RunAsync("pki", "init", "--out", rig._dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", rig._dir.File("ca"), "--name", "dst.test", "--out", rig._dir.File("dst-cred"));
        await Secmig.RunAsync("pki", "issue", "--ca", rig._dir.File("ca"), "--name", "src.test", "--out", rig._dir.File("src-cred"));
        rig.Source = await QemuVmProcess.StartSourceAsync(rig._dir.Path, "src", memoryMiB);
        rig._owned.Add(rig.Source);
        await rig.StartDestinationQemuAsync(memoryMiB);
        await rig.Source.WaitUntilFilledAsync();
        return rig;
    }

    /// <summary>Starts a (fresh) destination QEMU, as an operator does before each migration.</summary>
    public async Task StartDestinationQemuAsync(int memoryMiB = 64)
    {
        Destination = await QemuVmProcess.StartDestinationAsync(_dir.Path, "dst", memoryMiB);
        _owned.Add(Destination);
    }

    public string[] X509(string who, string? ca = null) =>
        ["--cert", _dir.File($"{who}-cred/cert.pem"), "--key", _dir.File($"{who}-cred/key.pem"), "--ca", _dir.File($"{ca ?? "ca"}/ca.pem")];

    /// <summary>Issues credentials from a second, rogue CA.</summary>
    public async Task AddRogueCaAsync()
    {
        await Secmig.RunAsync("pki", "init", "--out", _dir.File("rogue"));
        await Secmig.RunAsync("pki", "issue", "--ca", _dir.File("rogue"), "--name", "dst.test", "--out", _dir.File("rogue-cred"));
    }

    /// <summary>Issues credentials for another host of the cluster (an insider: same CA, another name).</summary>
    public async Task IssueAsync(string who, string name)
    {
        await Secmig.RunAsync("pki", "issue", "--ca", _dir.File("ca"), "--name", name, "--out", _dir.File($"{who}-cred"));
    }

    /// <summary>Loads the credentials 'secmig pki' issued to <paramref name="who"/>, for a test that plays that host with the
    /// library.</summary>
    public X509ChannelCredentials Credentials(string who) =>
        X509ChannelCredentials.FromPemFiles(_dir.File($"{who}-cred/cert.pem"), _dir.File($"{who}-cred/key.pem"), _dir.File("ca/ca.pem"));

    /// <summary>Writes PSK keyrings for <paramref name="hosts"/> (a key per pair) into the directory <paramref name="name"/>.</summary>
    public async Task<string> NewKeyringsAsync(string name, params string[] hosts)
    {
        string directory = _dir.File(name);
        await Secmig.RunAsync(["pki", "psk", "--out", directory, .. hosts.SelectMany(h => new[] { "--identity", h })]);
        return directory;
    }

    /// <summary>The options that make a 'secmig' process <paramref name="host"/> with its keyring from
    /// <paramref name="keyrings"/>.</summary>
    public static string[] Keyring(string keyrings, string host, string? claim = null) =>
        ["--psk-keyring", Path.Combine(keyrings, host + ".keys"), "--local-name", claim ?? host];

    /// <summary>Starts 'secmig agent' for the destination QEMU and waits until it listens.</summary>
    public async Task StartAgentAsync(string[] credentials, params string[] extra)
    {
        Agent = Secmig.StartOn(DestinationHost, AgentArguments(credentials, extra));
        _owned.Add(Agent);
        string rest = await Agent.WaitForAsync("listening ");
        AgentEndPoint = IPEndPoint.Parse(rest[..rest.IndexOf(' ', StringComparison.Ordinal)]);
    }

    /// <summary>Starts 'secmig agent' on the source host, serving the source QEMU, and waits until its control socket answers;
    /// returns the socket's path.</summary>
    public async Task<string> StartSourceAgentAsync(string[] credentials, params string[] extra)
    {
        ExternalProcess agent = Secmig.Start([
            "agent", "--listen", "127.0.0.1:0", "--vm", $"{VmId}={Source.AgentMonitor}", "--work", SourceWork, "--registry", Registry,
            "--memory-dir", _dir.Path, .. credentials, .. extra]);
        _owned.Add(agent);
        string control = Path.Combine(SourceWork, "control.sock");
        await agent.WaitForAsync("control " + control);
        return control;
    }

    /// <summary>Runs 'secmig migrate --agent' against the source host's agent, to the destination's agent.</summary>
    public Task<(int ExitCode, string Output)> MigrateThroughAgentAsync(string control, params string[] extra) =>
        Secmig.RunAsync(MigrateThroughAgentArguments(control, extra));

    /// <summary>Starts 'secmig migrate --agent' (to the destination through the relay when there is one) without waiting for it.
    /// </summary>
    public ExternalProcess StartMigrateThroughAgent(string control, params string[] extra)
    {
        ExternalProcess migrate = Secmig.Start(MigrateThroughAgentArguments(control, extra));
        _owned.Add(migrate);
        return migrate;
    }

    private string[] MigrateThroughAgentArguments(string control, string[] extra) =>
        ["migrate", "--agent", control, "--vm", VmId, "--to", (Relay?.EndPoint ?? AgentEndPoint!).ToString(), "--peer-name", "dst.test",
            .. extra];

    /// <summary>Runs 'secmig agent' for the destination QEMU to its end, for a test that expects it to refuse to start.</summary>
    public Task<(int ExitCode, string Output)> RunAgentAsync(string[] credentials, params string[] extra) =>
        Secmig.RunOnAsync(DestinationHost, AgentArguments(credentials, extra));

    /// <summary>Stops the agent as a crash would.</summary>
    public Task KillAgentAsync() => Agent!.KillAsync();

    private string[] AgentArguments(string[] credentials, string[] extra) =>
    [
        "agent", "--listen", AgentListen, "--vm", $"{VmId}={Destination.AgentMonitor}", "--work", DestinationWork, "--registry", Registry,
        "--memory-dir", _dir.Path, .. credentials, .. extra,
    ];

    /// <summary>Puts a network attacker between 'secmig migrate' and the agent.</summary>
    public NetworkAttacker AddRelay()
    {
        Relay = new NetworkAttacker(AgentEndPoint!);
        _owned.Add(Relay);
        return Relay;
    }

    /// <summary>Runs 'secmig migrate' for the source QEMU to the agent (through the relay when there is one).</summary>
    public Task<(int ExitCode, string Output)> MigrateAsync(string[] credentials, params string[] extra) =>
        MigrateThroughAsync(Relay, credentials, extra);

    /// <summary>Runs 'secmig migrate' for the source QEMU to the agent through <paramref name="relay"/>.</summary>
    public Task<(int ExitCode, string Output)> MigrateThroughAsync(NetworkAttacker? relay, string[] credentials, params string[] extra) =>
        Secmig.RunOnAsync(SourceHost, MigrateArguments(relay, Registry, "dst.test", credentials, extra));

    /// <summary>Runs 'secmig migrate' expecting the destination to be <paramref name="peerName"/> (a typo, say).</summary>
    public Task<(int ExitCode, string Output)> MigrateExpectingAsync(string peerName, string[] credentials, params string[] extra) =>
        Secmig.RunAsync(MigrateArguments(Relay, Registry, peerName, credentials, extra));

    /// <summary>Runs 'secmig migrate' with a registry of its own, as an insider that keeps its own books would.</summary>
    public Task<(int ExitCode, string Output)> MigrateWithRegistryAsync(string registry, string[] credentials, params string[] extra) =>
        Secmig.RunAsync(MigrateArguments(Relay, registry, "dst.test", credentials, extra));

    /// <summary>Starts 'secmig migrate' (through the relay when there is one) without waiting for it, so a test can kill it.</summary>
    public ExternalProcess StartMigrate(string[] credentials, params string[] extra)
    {
        ExternalProcess migrate = Secmig.StartOn(SourceHost, MigrateArguments(Relay, Registry, "dst.test", credentials, extra));
        _owned.Add(migrate);
        return migrate;
    }

    private string[] MigrateArguments(NetworkAttacker? relay, string registry, string peerName, string[] credentials, string[] extra) =>
    [
        "migrate", "--vm", VmId, "--qmp", Source.AgentMonitor, "--to", (relay?.EndPoint ?? AgentEndPoint!).ToString(), "--peer-name",
            peerName,
        "--work", SourceWork, "--registry", registry, "--memory-dir", _dir.Path, .. credentials, .. extra,
    ];

    /// <summary>
    /// Starts 'secmig migrate' through a relay that holds the stream once 8 MiB passed (mid-transfer, whatever the
    /// machine's speed), and returns once it holds, so a test can crash or signal either side there.
    /// </summary>
    public async Task<ExternalProcess> StartMigrateHeldMidTransferAsync(string[] credentials, params string[] extra)
    {
        NetworkAttacker relay = AddRelay();
        relay.StallAt = 8L << 20;
        ExternalProcess migrate = StartMigrate(credentials, extra);
        await HeldMidTransferAsync(relay, migrate);
        return migrate;
    }

    /// <summary>Waits until <paramref name="relay"/> holds the stream; a migration that never gets there (it ended or stuck before)
    /// fails the test after two minutes with what it printed, rather than holding the run for good.</summary>
    public static async Task HeldMidTransferAsync(NetworkAttacker relay, ExternalProcess migrate)
    {
        try
        {
            await relay.Stalled.WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The migration never reached mid-transfer. 'secmig migrate' printed:\n{migrate.Output}");
        }
    }

    /// <summary>Waits until the agent printed the result of a migration; returns its status.</summary>
    public async Task<string> AgentResultAsync(int nth = 1)
    {
        string output = await Agent!.WaitUntilAsync(o => ResultLine().Matches(o).Count >= nth, $"result number {nth}");
        return ResultLine().Matches(output)[nth - 1].Groups[1].Value;
    }

    /// <summary>Asserts the source kept its VM: running, and QEMU's migration never started or ended without completing.</summary>
    public async Task AssertSourceRunsAsync()
    {
        Assert.True(Source.IsAlive, "the source QEMU must still run");
        Assert.Equal("running", await Source.StatusAsync());
        Assert.True(File.Exists(Source.MemoryFile), "the source's RAM must be kept");
    }

    /// <summary>Asserts the destination's partial copy is gone: QEMU quit (or died) and its RAM file was sanitized away.</summary>
    public void AssertDestinationGone()
    {
        Assert.False(Destination.IsAlive, "the destination QEMU must be gone");
        Assert.False(File.Exists(Destination.MemoryFile), "the destination's RAM file must have been sanitized and removed");
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _dir.Dispose();
    }

    [GeneratedRegex(@"result vm1 (\w+)")]
    private static partial Regex ResultLine();
}
