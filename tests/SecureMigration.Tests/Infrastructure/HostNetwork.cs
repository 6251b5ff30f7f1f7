using System.Globalization;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Hosts on one machine, each in its own network namespace (its processes, its loopback, its address), joined by a bridge
/// in a namespace of its own: host i is 10.0.0.(i+1)/24, and every host's /etc/hosts resolves every host's name (<c>ip
/// netns exec</c> mounts /etc/netns/NAME/hosts over /etc/hosts). Each host has a second address, 10.0.1.(i+1), for the
/// services the hosts share (etcd's members), so a test can cut a host off from them (blackhole routes: packets vanish, as
/// in a real partition) and not from the other hosts, and shape a host's link with <c>tc netem</c> (latency, loss) where
/// the kernel has it. Needs root and iproute2. Removed on dispose.
/// </summary>
public sealed class HostNetwork : IAsyncDisposable
{
    private static int s_created;
    private readonly string _tag;
    private readonly string[] _names;

    private HostNetwork(string tag, string[] names)
    {
        _tag = tag;
        _names = names;
        Namespaces = [.. names.Select((_, i) => $"{tag}h{i}")];
    }

    /// <summary>Gets each host's namespace, in the order of the names given.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    private string Hub => _tag + "hub";

    /// <summary>Creates the hosts and the bridge between them.</summary>
    /// <param name="hostNames">The hosts' names (at most 250), resolved to their addresses on every host.</param>
    /// <returns>The network.</returns>
    public static async Task<HostNetwork> CreateAsync(params string[] hostNames)
    {
        // Names unique to this process, short enough for interface names (15 bytes).
        string tag = $"sm{Environment.ProcessId % 10000}x{Interlocked.Increment(ref s_created)}";
        var network = new HostNetwork(tag, hostNames);
        string hosts = "127.0.0.1 localhost\\n" + string.Concat(hostNames.Select((name, i) => $"{Address(i)} {name}\\n"));
        var script = new System.Text.StringBuilder($"""
            set -e
            ip netns add {network.Hub}
            ip -n {network.Hub} link add br0 type bridge
            ip -n {network.Hub} link set br0 up
            """);
        for (int i = 0; i < hostNames.Length; i++)
        {
            string ns = network.Namespaces[i];
            script.Append(CultureInfo.InvariantCulture, $"""

                ip netns add {ns}
                ip link add {ns}v type veth peer name {ns}b
                ip link set {ns}v netns {ns}
                ip link set {ns}b netns {network.Hub}
                ip -n {network.Hub} link set {ns}b master br0 up
                ip -n {ns} addr add {Address(i)}/24 dev {ns}v
                ip -n {ns} addr add {ServiceAddress(i)}/24 dev {ns}v
                ip -n {ns} link set lo up
                ip -n {ns} link set {ns}v up
                mkdir -p /etc/netns/{ns}
                printf '{hosts}' > /etc/netns/{ns}/hosts
                """);
        }

        try
        {
            (int exit, string output) = await ProcessRunner.RunAsync(ExternalProgram.Require("bash"), ["-c", script.ToString()],
                TimeSpan.FromSeconds(30));
            Assert.True(exit == 0, $"could not create the hosts' network namespaces: {output}");
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }

        return network;
    }

    /// <summary>The address of host <paramref name="host"/>.</summary>
    public static string Address(int host) => $"10.0.0.{(host + 1).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The address of host <paramref name="host"/>'s shared services (its etcd member).</summary>
    public static string ServiceAddress(int host) => $"10.0.1.{(host + 1).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Gets whether this kernel has <c>tc netem</c> (sch_netem): tried once, on a namespace of its own.</summary>
    public static bool HasNetem => s_hasNetem.Value;

    private static readonly Lazy<bool> s_hasNetem = new(() =>
    {
        string ns = $"smnetem{Environment.ProcessId % 100000}";
        (int exit, _) = ProcessRunner.RunAsync("bash", ["-c", $"ip netns add {ns} && ip netns exec {ns} tc qdisc add dev lo root netem " +
            $"delay 1ms; status=$?; ip netns del {ns}; exit $status"], TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        return exit == 0;
    });

    /// <summary>The command that runs <paramref name="command"/> with bash on <paramref name="host"/>, in <paramref name="directory"/>,
    /// with <paramref name="path"/> first on PATH.</summary>
    public static string[] On(string host, string directory, string path, string command) =>
        ["netns", "exec", host, "env", $"PATH={path}:{Environment.GetEnvironmentVariable("PATH")}", "NO_COLOR=1", "bash", "-c",
            $"cd '{directory}' && {command}"];

    /// <summary>Cuts host <paramref name="host"/> off from every other host's shared services (etcd), or ends the cut; the hosts
    /// still reach each other.</summary>
    public Task CutFromServicesAsync(int host, bool cut) => RunAsync(CutFromServicesCommand(host, cut));

    /// <summary>The command that cuts <paramref name="host"/> off from the other hosts' shared services (a blackhole route to
    /// each), or ends the cut: for a hook to run at the moment it picks.</summary>
    public string CutFromServicesCommand(int host, bool cut = true) => string.Join(" && ", Enumerable.Range(0, _names.Length)
        .Where(other => other != host)
        .Select(other => $"ip -n {Namespaces[host]} route {(cut ? "add" : "del")} blackhole {ServiceAddress(other)}/32"));

    /// <summary>Shapes what host <paramref name="host"/> sends with <c>tc netem</c> (for example "delay 20ms loss 1%").</summary>
    public Task ShapeAsync(int host, string netem) =>
        RunAsync($"ip netns exec {Namespaces[host]} tc qdisc replace dev {Namespaces[host]}v root netem {netem}");

    public async ValueTask DisposeAsync()
    {
        string script = string.Concat(Namespaces.Select(ns => $"ip netns del {ns} 2>/dev/null; rm -rf /etc/netns/{ns}; ")) +
            $"ip netns del {Hub} 2>/dev/null; true";
        await ProcessRunner.RunAsync(ExternalProgram.Require("bash"), ["-c", script], TimeSpan.FromSeconds(30));
    }

    private async Task RunAsync(string command)
    {
        (int exit, string output) = await ProcessRunner.RunAsync(ExternalProgram.Require("bash"), ["-c", command],
            TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, $"{command}: {output}");
    }
}
