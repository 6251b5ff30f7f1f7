using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Testing.Network;

namespace SecureMigration.Cli.Cluster;

/// <summary>
/// Two simulated hosts in a work directory (<c>pki/</c>, <c>registry/</c>, <c>hosts/ID/</c>), sharing an ownership
/// registry and talking over mutually authenticated channels on loopback. <c>secmig demo</c> runs its scenes on it;
/// <c>secmig recover</c> and <c>secmig status</c> open it again after a crash.
/// </summary>
internal sealed class SimulatedCluster : IAsyncDisposable
{
    public const string SourceName = "source.demo";
    public const string DestinationName = "destination.demo";
    public static readonly IReadOnlyList<string> HostNames = [SourceName, DestinationName];

    private readonly List<ClusterHost> _hosts;

    private SimulatedCluster(string workDirectory, FileOwnershipRegistry registry, List<ClusterHost> hosts)
    {
        WorkDirectory = workDirectory;
        Registry = registry;
        _hosts = hosts;
    }

    public string WorkDirectory { get; }

    /// <summary>Gets the cluster CA's certificate (PEM), which every host's credentials and signatures chain to.</summary>
    public string CaPath => Path.Combine(WorkDirectory, "pki", "ca.pem");

    public FileOwnershipRegistry Registry { get; }

    public IReadOnlyList<ClusterHost> Hosts => _hosts;

    public static string RegistryDirectory(string workDirectory) => Path.Combine(workDirectory, "registry");

    public static string HostDirectory(string workDirectory, string host) => Path.Combine(workDirectory, "hosts", host);

    /// <summary>Opens the cluster in <paramref name="workDirectory"/>, creating it (with a fresh PKI) when <paramref name="create"/>
    /// allows.</summary>
    /// <param name="workDirectory">The work directory.</param>
    /// <param name="create">Whether a missing cluster may be created.</param>
    /// <param name="hooksDirectory">A directory with <c>pre-migrate/</c> and <c>post-migrate/</c> executables run on both hosts, or
    /// <see langword="null"/>.</param>
    public static async Task<SimulatedCluster> OpenAsync(string workDirectory, bool create, string? hooksDirectory = null)
    {
        string full = Path.GetFullPath(workDirectory);
        Directory.CreateDirectory(full);
        var credentials = ClusterPki.LoadOrCreate(full, HostNames, create);
        var registry = new FileOwnershipRegistry(RegistryDirectory(full));
        var hosts = new List<ClusterHost>();
        try
        {
            foreach (string host in HostNames)
            {
                hosts.Add(await ClusterHost.CreateAsync(HostDirectory(full, host), host, credentials[host], registry, hooksDirectory));
            }
        }
        catch
        {
            foreach (ClusterHost host in hosts)
            {
                await host.DisposeAsync();
            }

            throw;
        }

        return new SimulatedCluster(full, registry, hosts);
    }

    public ClusterHost Host(string id) => _hosts.Single(h => h.Id == id);

    /// <summary>Creates <paramref name="vmId"/> running on the source host, unless the cluster knows it already.</summary>
    public async Task EnsureVmAsync(string vmId, long size, CancellationToken cancellationToken)
    {
        if (await Registry.GetAsync(vmId, cancellationToken) is not null)
        {
            return;
        }

        await Host(SourceName).Driver.CreateVmAsync(vmId, size, cancellationToken);
        await Registry.RegisterAsync(vmId, SourceName, cancellationToken);
    }

    /// <summary>Migrates <paramref name="vmId"/> from the host that owns it to the other, with the attacker doing
    /// <paramref name="attack"/>.</summary>
    public async Task<(MigrationResult Source, MigrationResult? Destination)> MigrateAsync(string vmId, ClusterAttack attack,
        IProgress<MigrationProgress>? sourceProgress,
        IProgress<MigrationProgress>? destinationProgress, CancellationToken cancellationToken)
    {
        OwnershipRecord owner = await Registry.GetAsync(vmId, cancellationToken) ?? throw new ArgumentException($"The cluster does not " +
            $"know VM '{vmId}'.");
        ClusterHost source = Host(owner.Owner);
        ClusterHost destination = _hosts.First(h => h != source);
        await using NetworkAttacker? attacker = attack == ClusterAttack.None ? null
            : new NetworkAttacker(destination.Listener.LocalEndPoint);
        if (attack == ClusterAttack.CutMidTransfer)
        {
            attacker!.CutAt = (await source.Driver.QueryAsync(vmId, cancellationToken)).Images.Sum(i => new FileInfo(i).Length) / 2;
        }
        else if (attack == ClusterAttack.DropFinalAcknowledgement)
        {
            destination.Registry.AfterNextMove = _ =>
            {
                attacker!.DropFromDestination();
                return ValueTask.CompletedTask;
            };
        }

        using var noChannel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<MigrationResult?> received = ReceiveAsync(destination, destinationProgress, noChannel.Token, cancellationToken);
        System.Net.IPEndPoint target = attacker?.EndPoint ?? destination.Listener.LocalEndPoint;
        MigrationResult result = await source.Coordinator.MigrateAsync(vmId, destination.Id,
            async (ticket, token) => await source.Factory.ConnectAsync(target, ticket, token), progress: sourceProgress,
                cancellationToken: cancellationToken);
        if (!source.Journal.Records.Any(r => r.MigrationId == result.MigrationId && r.Phase == MigrationPhase.ChannelOpen))
        {
            // The source never opened a channel: nothing will arrive.
            await noChannel.CancelAsync();
        }

        return (result, await received);
    }

    /// <summary>Runs recovery on every host; returns what each did.</summary>
    public async Task<IReadOnlyList<(string Host, RecoveredMigration Migration)>> RecoverAsync(CancellationToken cancellationToken)
    {
        var recovered = new List<(string, RecoveredMigration)>();
        foreach (ClusterHost host in _hosts)
        {
            foreach (RecoveredMigration migration in await host.Coordinator.RecoverAsync(cancellationToken))
            {
                recovered.Add((host.Id, migration));
            }
        }

        return recovered;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ClusterHost host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private static async Task<MigrationResult?> ReceiveAsync(ClusterHost host, IProgress<MigrationProgress>? progress,
        CancellationToken noChannel, CancellationToken cancellationToken)
    {
        ChannelConnection? connection;
        try
        {
            connection = await host.Listener.AcceptAsync(noChannel);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        return connection is null ? null : await host.Coordinator.ReceiveAsync(connection, progress, cancellationToken);
    }
}
