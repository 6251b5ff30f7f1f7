using SecureMigration.Coordination.Drivers;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// A source's hypervisor that, when <see cref="Hold"/> is set, sends the first chunk of its migration stream and holds the
/// rest, so the source is surely still streaming when the peer misbehaves.
/// </summary>
internal sealed class HoldingDriver(IHypervisorDriver inner) : IHypervisorDriver
{
    public bool Hold { get; set; }

    public async ValueTask<Stream> StartOutgoingAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Stream stream = await inner.StartOutgoingAsync(vmId, cancellationToken);
        return Hold ? new SilentStream(stream) : stream;
    }

    public ValueTask ResumeSourceAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.ResumeSourceAsync(vmId, cancellationToken);

    public ValueTask<IReadOnlyList<string>> DiscardSourceAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.DiscardSourceAsync(vmId, cancellationToken);

    public ValueTask<Stream> PrepareDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.PrepareDestinationAsync(vmId, cancellationToken);

    public ValueTask FinishIncomingAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.FinishIncomingAsync(vmId, cancellationToken);

    public ValueTask ActivateDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.ActivateDestinationAsync(vmId, cancellationToken);

    public ValueTask<IReadOnlyList<string>> DestroyDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.DestroyDestinationAsync(vmId, cancellationToken);

    public ValueTask<VmStatus> QueryAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.QueryAsync(vmId, cancellationToken);
}
