using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>One real etcd cluster for the tests of a collection; each test works under a key prefix of its own.</summary>
public sealed class EtcdClusterFixture : IAsyncLifetime
{
    private EtcdCluster? _cluster;

    /// <summary>Gets the cluster, or <see langword="null"/> when etcd is not installed (the tests skip).</summary>
    public EtcdCluster Cluster => _cluster ?? throw new InvalidOperationException("etcd is not installed; the test should have skipped.");

    /// <summary>A key prefix no other test uses.</summary>
    /// <returns>The prefix.</returns>
    public static string FreshPrefix() => $"/test-{Guid.NewGuid():N}/";

    public async Task InitializeAsync()
    {
        if (ExternalProgram.Find("etcd") is not null || ExternalProgram.Required)
        {
            _cluster = await EtcdCluster.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>The tests that share one etcd cluster.</summary>
[CollectionDefinition(nameof(EtcdCollection))]
public sealed class EtcdCollection : ICollectionFixture<EtcdClusterFixture>;
