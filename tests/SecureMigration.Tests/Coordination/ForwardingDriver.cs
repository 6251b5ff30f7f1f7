using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>A hypervisor driver that passes every call to <paramref name="inner"/>; a test double overrides the calls it changes.</summary>
internal abstract class ForwardingDriver(HypervisorDriver inner) : HypervisorDriver
{
    protected HypervisorDriver Inner { get; } = inner;

    protected override ValueTask PrepareOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.PrepareOutgoingAsync(vmId, cancellationToken);

    protected override ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.StartOutgoingAsync(vmId, cancellationToken);

    protected override ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.ResumeSourceAsync(vmId, cancellationToken);

    protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.DiscardSourceAsync(vmId, cancellationToken);

    protected override ValueTask CheckDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.CheckDestinationAsync(vmId, cancellationToken);

    protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.PrepareDestinationAsync(vmId, cancellationToken);

    protected override ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.FinishIncomingAsync(vmId, cancellationToken);

    protected override ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.ActivateDestinationAsync(vmId, cancellationToken);

    protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.DestroyDestinationAsync(vmId, cancellationToken);

    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
        Inner.QueryAsync(vmId, cancellationToken);
}
