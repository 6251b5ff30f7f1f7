using SecureMigration.Etcd;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>The etcd registries of one test's hosts, under a key prefix of the test's own, closed with the test.</summary>
/// <param name="fixture">The shared cluster.</param>
public sealed class EtcdRegistries(EtcdClusterFixture fixture) : IDisposable
{
    private readonly List<EtcdOwnershipRegistry> _opened = [];

    /// <summary>Gets the test's key prefix.</summary>
    public string Prefix { get; } = EtcdClusterFixture.FreshPrefix();

    /// <summary>Opens a registry for <paramref name="host"/>, with its own credentials from the cluster's CA.</summary>
    /// <param name="host">The host.</param>
    /// <param name="timeout">The operation timeout, or <see langword="null"/> for 10 seconds.</param>
    /// <returns>The registry.</returns>
    public EtcdOwnershipRegistry For(string host, TimeSpan? timeout = null) => For(host, timeout, links: null);

    /// <summary>Opens a registry for <paramref name="host"/> that reaches the members through <paramref name="links"/> only (one per
    /// member), so a test can cut the host off.</summary>
    /// <param name="host">The host.</param>
    /// <param name="timeout">The operation timeout.</param>
    /// <param name="links">The links, or <see langword="null"/> to reach the members directly.</param>
    /// <param name="faults">Faults on its transactions, or <see langword="null"/>.</param>
    /// <returns>The registry.</returns>
    public EtcdOwnershipRegistry For(string host, TimeSpan? timeout, IEnumerable<PartitionableLink>? links,
        TransactionFaultInterceptor? faults = null)
    {
        EtcdRegistryOptions options = fixture.Cluster.Options(host, Prefix);
        options.OperationTimeout = timeout ?? options.OperationTimeout;
        if (links is not null)
        {
            options.Endpoints.Clear();
            foreach (PartitionableLink link in links)
            {
                options.Endpoints.Add(new EtcdEndpoint("127.0.0.1", link.EndPoint.Port));
            }
        }

        var registry = new EtcdOwnershipRegistry(options, timeProvider: null, faults is null ? [] : [faults]);
        _opened.Add(registry);
        return registry;
    }

    /// <summary>Reads the stored record of <paramref name="vmId"/> as bytes, as anyone with etcd access can.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The bytes, or <see langword="null"/>.</returns>
    public Task<byte[]?> ReadRecordAsync(string vmId) => fixture.Cluster.ReadRawAsync(Writer, Prefix + "vms/" + vmId);

    /// <summary>Puts <paramref name="value"/> as the record of <paramref name="vmId"/>, as anyone with etcd access (and no host's key)
    /// can.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="value">The bytes.</param>
    /// <returns>A task that completes when etcd stored them.</returns>
    public Task WriteRecordAsync(string vmId, byte[] value) => WriteKeyAsync("vms/" + vmId, value);

    /// <summary>Puts <paramref name="value"/> at <paramref name="key"/> under the test's prefix, as anyone with etcd access can.</summary>
    /// <param name="key">The key after the prefix.</param>
    /// <param name="value">The bytes.</param>
    /// <returns>A task that completes when etcd stored them.</returns>
    public Task WriteKeyAsync(string key, byte[] value) => fixture.Cluster.WriteRawAsync(Writer, Prefix + key, value);

    /// <summary>Counts the keys under <paramref name="key"/> (below the prefix), as anyone with etcd access can.</summary>
    /// <param name="key">The key prefix under the registries' prefix, ending in '/'.</param>
    /// <returns>The number of keys.</returns>
    public Task<long> CountKeysAsync(string key) => fixture.Cluster.CountRawAsync(Writer, Prefix + key);

    private EtcdRegistryOptions Writer => fixture.Cluster.Options("writer.test", Prefix);

    public void Dispose()
    {
        foreach (EtcdOwnershipRegistry registry in _opened)
        {
            registry.Dispose();
        }
    }
}
