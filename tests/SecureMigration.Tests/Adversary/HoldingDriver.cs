using SecureMigration.Coordination.Drivers;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// A source's hypervisor that, when <see cref="Hold"/> is set, sends the first chunk of its migration stream and holds the
/// rest, so the source is surely still streaming when the peer misbehaves.
/// </summary>
internal sealed class HoldingDriver(HypervisorDriver inner) : HypervisorDriver
{
    public bool Hold { get; set; }

    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        Stream stream = await inner.StartOutgoingAsync(vmId, cancellationToken);
        return Hold ? new SilentStream(stream) : stream;
    }

    protected override ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.ResumeSourceAsync(vmId, cancellationToken);

    protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.DiscardSourceAsync(vmId, cancellationToken);

    protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.PrepareDestinationAsync(vmId, cancellationToken);

    protected override ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.FinishIncomingAsync(vmId, cancellationToken);

    protected override ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.ActivateDestinationAsync(vmId, cancellationToken);

    protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.DestroyDestinationAsync(vmId, cancellationToken);

    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.QueryAsync(vmId, cancellationToken);
}
