using SecureMigration.Etcd;

namespace SecureMigration.Tests.Etcd;

/// <summary>The etcd registries of one test's hosts, under a key prefix of the test's own, closed with the test.</summary>
/// <param name="fixture">The shared cluster.</param>
public sealed class EtcdRegistries(EtcdClusterFixture fixture) : IDisposable
{
    private readonly string _prefix = EtcdClusterFixture.FreshPrefix();
    private readonly List<EtcdOwnershipRegistry> _opened = [];

    /// <summary>Opens a registry for <paramref name="host"/>, with its own credentials from the cluster's CA.</summary>
    /// <param name="host">The host.</param>
    /// <param name="timeout">The operation timeout, or <see langword="null"/> for 10 seconds.</param>
    /// <returns>The registry.</returns>
    public EtcdOwnershipRegistry For(string host, TimeSpan? timeout = null)
    {
        EtcdRegistryOptions options = fixture.Cluster.Options(host, _prefix);
        options.OperationTimeout = timeout ?? options.OperationTimeout;
        var registry = new EtcdOwnershipRegistry(options);
        _opened.Add(registry);
        return registry;
    }

    public void Dispose()
    {
        foreach (EtcdOwnershipRegistry registry in _opened)
        {
            registry.Dispose();
        }
    }
}
