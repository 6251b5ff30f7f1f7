namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Tests on the collection's real etcd cluster whose hosts open their registries under a key prefix of the test's own
/// (<see cref="Registries"/>), closed with the test.
/// </summary>
/// <param name="fixture">The shared cluster.</param>
[Collection(nameof(EtcdCollection))]
public abstract class EtcdClusterTests(EtcdClusterFixture fixture) : IDisposable
{
    /// <summary>Gets the shared cluster.</summary>
    protected EtcdClusterFixture Fixture { get; } = fixture;

    /// <summary>Gets the registries of this test's hosts.</summary>
    protected EtcdRegistries Registries { get; } = new(fixture);

    public void Dispose()
    {
        Registries.Dispose();
        GC.SuppressFinalize(this);
    }
}
