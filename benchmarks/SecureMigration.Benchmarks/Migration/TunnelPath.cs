using SecureMigration.Benchmarks.Processes;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// QEMU migrating over plain TCP into a pair of mutually authenticated tunnel ends (TLS 1.3, AES-256-GCM): (c) stunnel,
/// and <c>secmig tunnel</c>, which is how SecureMigration carries libvirt's or any TCP hypervisor's migration.
/// </summary>
internal sealed class TunnelPath(string name, string key, Func<string, TunnelPorts, Task<TunnelPair>> start) : DirectQemuPath,
    IMigrationPath
{
    private TunnelPair? _pair;

    public override string Name => name;

    public override string Key => key;

    protected override int SourceTargetPort => _pair!.Ports.Source;

    public override async Task StartAsync(MigrationBenchmarkContext context)
    {
        await base.StartAsync(context);
        _pair = await start(context.Credentials, TunnelPorts.ForwardingTo(IncomingPort));
    }

    public IReadOnlyList<int> RelayProcesses => _pair!.ProcessIds;

    public override void Dispose() => _pair?.Dispose();
}
