using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Faults on a network of hosts, as the issue asks where the machine allows it: three hosts, each its own network namespace
/// on a bridge, each with its etcd member (TLS, client certificates); 'secmig migrate' on the first, 'secmig agent' on the
/// second, the third only a member. Real QEMU guests (their migration streams go through secmig's local sockets, so QEMU
/// needs no network of its own). Latency and loss with <c>tc netem</c>, a partition with the host's link taken down. Each
/// ends with exactly one runnable copy, on the host etcd names.
/// </summary>
public sealed class EtcdNamespaceFaultTests
{
    private const int SourceHost = 0;
    private const int DestinationHost = 1;
    private const int ThirdHost = 2;

    /// <summary>Every host's link delays and loses packets: the migration, the commit in etcd and the members' consensus all
    /// cross it, and the migration completes.</summary>
    [RequiresTwoHostsFact("etcd", "tc", Netem = true)]
    public async Task LatencyAndLossOnEveryHost_TheMigrationCompletes_AndEtcdNamesTheDestination()
    {
        await using Hosts hosts = await Hosts.StartAsync();
        foreach (int host in new[] { SourceHost, DestinationHost, ThirdHost })
        {
            await hosts.Network.ShapeAsync(host, "delay 10ms 2ms loss 1%");
        }

        await hosts.Rig.StartAgentAsync(hosts.Rig.X509("dst"), "--allow-peer", "src.test");
        (int exit, string output) = await hosts.Rig.MigrateAsync(hosts.Rig.X509("src"));

        Assert.True(exit == 0, output);
        Assert.Equal("Completed", await hosts.Rig.AgentResultAsync());
        Assert.Contains("vm1: owner dst.test, epoch 2", await hosts.StatusAsync(), StringComparison.Ordinal);
        Assert.False(hosts.Rig.Source.IsAlive, "the source QEMU must have quit after the commit");
        Assert.Equal("running", await hosts.Rig.Destination.StatusAsync());
    }

    /// <summary>
    /// The source host is cut off from the other hosts' etcd members once the destination has the whole stream: a hook of the
    /// destination's, run when it verified the digest, adds blackhole routes (no reset, as on a real network: a member cut
    /// off answers nothing). Its own member alone has no quorum. The source still reaches the destination and asks for the
    /// commit, which the destination makes through the two members left; but the source asks etcd whatever the
    /// acknowledgement said, cannot, and keeps its copy paused (exit 4, in doubt), neither running nor destroying it. Once the
    /// cut ends and both hosts recover, exactly one copy runs, on the host etcd names. (This test found a registry whose
    /// Dispose crashed the process when etcd was out of reach, and requests that waited their whole timeout on a member that
    /// answers nothing.)
    /// </summary>
    [RequiresTwoHostsFact("etcd")]
    public async Task SourceHostCutOffFromEtcdAfterTheStream_StaysPausedInDoubt_ThenOneCopyRunsWhereEtcdSays()
    {
        await using Hosts hosts = await Hosts.StartAsync();
        string hooks = Path.Combine(hosts.Rig.Root, "hooks");
        Directory.CreateDirectory(Path.Combine(hooks, "post-migrate"));
        string cut = Path.Combine(hooks, "post-migrate", "cut-source-from-etcd");
        File.WriteAllText(cut, $"#!/bin/sh\nset -e\n{hosts.Network.CutFromServicesCommand(SourceHost)}\n");
        File.SetUnixFileMode(cut, (UnixFileMode)0b111_101_101);
        await hosts.Rig.StartAgentAsync([.. hosts.Rig.X509("dst"), "--allow-peer", "src.test", "--hooks", hooks]);

        (int exit, string output) = await hosts.Rig.MigrateAsync([.. hosts.Rig.X509("src"), "--retries", "0"]);

        Assert.True(exit == 4, output);
        Assert.Contains("could not be reached after the commit was requested", output, StringComparison.Ordinal);
        Assert.Equal("Completed", await hosts.Rig.AgentResultAsync());
        Assert.Equal("running", await hosts.Rig.Destination.StatusAsync());
        Assert.Equal("postmigrate", await hosts.Rig.Source.StatusAsync()); // stopped, its memory sent, not running
        await hosts.Network.CutFromServicesAsync(SourceHost, cut: false);
        await hosts.RecoverAsync(hosts.Rig.SourceHost!, hosts.Rig.SourceWork, hosts.Rig.Source.AgentMonitor, "src");
        Assert.Contains("vm1: owner dst.test, epoch 2", await hosts.StatusAsync(), StringComparison.Ordinal);
        Assert.False(hosts.Rig.Source.IsAlive, "the source QEMU quits once its recovery found the commit");
        Assert.Equal("running", await hosts.Rig.Destination.StatusAsync());
    }

    /// <summary>The three hosts, their etcd members and the QEMU rig, torn down in reverse.</summary>
    private sealed class Hosts : IAsyncDisposable
    {
        private Hosts(HostNetwork network, LiveMigrationRig rig, CertificateAuthority ca, EtcdCluster etcd)
        {
            Network = network;
            Rig = rig;
            Ca = ca;
            Etcd = etcd;
        }

        public HostNetwork Network { get; }

        public LiveMigrationRig Rig { get; }

        private CertificateAuthority Ca { get; }

        private EtcdCluster Etcd { get; }

        public static async Task<Hosts> StartAsync()
        {
            HostNetwork network = await HostNetwork.CreateAsync("src.test", "dst.test", "third.test");
            LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
            CertificateAuthority ca = CertificateAuthority.Load(File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.pem")),
                File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.key")));
            EtcdCluster etcd = await EtcdCluster.StartAsync(ca, network);
            rig.Registry = etcd.ConnectionString;
            rig.SourceHost = network.Namespaces[SourceHost];
            rig.DestinationHost = network.Namespaces[DestinationHost];
            rig.AgentListen = HostNetwork.Address(DestinationHost) + ":0";
            return new Hosts(network, rig, ca, etcd);
        }

        /// <summary>Runs 'secmig recover' on a host for the rig's VM.</summary>
        public async Task RecoverAsync(string host, string work, string monitor, string who)
        {
            (int exit, string output) = await Secmig.RunOnAsync(host, ["recover", "--work", work, "--registry", Rig.Registry, "--vm",
                $"{LiveMigrationRig.VmId}={monitor}", "--memory-dir", Rig.Root, .. Rig.X509(who)]);
            Assert.True(exit == 0, output);
        }

        /// <summary>What 'secmig status' on the third host says of the cluster.</summary>
        public async Task<string> StatusAsync()
        {
            (int exit, string output) = await Secmig.RunOnAsync(Network.Namespaces[ThirdHost], ["status", "--work", Rig.DestinationWork,
                "--registry", Rig.Registry, .. Rig.X509("dst")]);
            Assert.True(exit == 0, output);
            return output;
        }

        public async ValueTask DisposeAsync()
        {
            await Rig.DisposeAsync();
            await Etcd.DisposeAsync();
            Ca.Dispose();
            await Network.DisposeAsync();
        }
    }
}
