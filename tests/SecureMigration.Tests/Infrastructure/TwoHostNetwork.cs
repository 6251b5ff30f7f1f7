namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Two hosts on one machine, as the docs' examples assume them: network namespaces "src" (10.0.0.1, src.example) and
/// "dst" (10.0.0.2, dst.example) joined by a veth pair, each with its own loopback and an /etc/hosts that resolves both
/// names (<c>ip netns exec</c> mounts /etc/netns/NAME/hosts over /etc/hosts). Needs root and iproute2. Removed on dispose.
/// </summary>
public sealed class TwoHostNetwork : IAsyncDisposable
{
    private const string Hosts = "127.0.0.1 localhost\n10.0.0.1 src.example\n10.0.0.2 dst.example\n";

    private static int s_created;

    private TwoHostNetwork(string source, string destination)
    {
        Source = source;
        Destination = destination;
    }

    /// <summary>Gets the source host's namespace.</summary>
    public string Source { get; }

    /// <summary>Gets the destination host's namespace.</summary>
    public string Destination { get; }

    public static async Task<TwoHostNetwork> CreateAsync()
    {
        // Names unique to this process, short enough for interface names (15 bytes).
        string tag = $"sm{Environment.ProcessId % 10000}x{Interlocked.Increment(ref s_created)}";
        var network = new TwoHostNetwork(tag + "s", tag + "d");
        string script = $"""
            set -e
            ip netns add {network.Source}
            ip netns add {network.Destination}
            ip link add {network.Source}v type veth peer name {network.Destination}v
            ip link set {network.Source}v netns {network.Source}
            ip link set {network.Destination}v netns {network.Destination}
            ip -n {network.Source} addr add 10.0.0.1/24 dev {network.Source}v
            ip -n {network.Destination} addr add 10.0.0.2/24 dev {network.Destination}v
            for ns in {network.Source} {network.Destination}; do
              ip -n $ns link set lo up
              mkdir -p /etc/netns/$ns
              printf '{Hosts.Replace("\n", "\\n", StringComparison.Ordinal)}' > /etc/netns/$ns/hosts
            done
            ip -n {network.Source} link set {network.Source}v up
            ip -n {network.Destination} link set {network.Destination}v up
            """;
        try
        {
            (int exit, string output) = await ProcessRunner.RunAsync(ExternalProgram.Require("bash"), ["-c", script],
                TimeSpan.FromSeconds(30));
            Assert.True(exit == 0, $"could not create the two hosts' network namespaces: {output}");
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }

        return network;
    }

    /// <summary>The command that runs <paramref name="command"/> with bash on <paramref name="host"/>, in <paramref name="directory"/>,
    /// with <paramref name="path"/> first on PATH.</summary>
    public static string[] On(string host, string directory, string path, string command) =>
        ["netns", "exec", host, "env", $"PATH={path}:{Environment.GetEnvironmentVariable("PATH")}", "NO_COLOR=1", "bash", "-c",
            $"cd '{directory}' && {command}"];

    public async ValueTask DisposeAsync()
    {
        string script = $"ip netns del {Source} 2>/dev/null; ip netns del {Destination} 2>/dev/null; rm -rf /etc/netns/{Source} " +
            $"/etc/netns/{Destination}; true";
        await ProcessRunner.RunAsync(ExternalProgram.Require("bash"), ["-c", script], TimeSpan.FromSeconds(30));
    }
}
