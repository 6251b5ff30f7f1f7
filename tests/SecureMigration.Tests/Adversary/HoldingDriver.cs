using SecureMigration.Coordination.Drivers;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// A source's hypervisor that, when <see cref="Hold"/> is set, sends the first chunk of its migration stream and holds the
/// rest, so the source is surely still streaming when the peer misbehaves.
/// </summary>
internal sealed class HoldingDriver(HypervisorDriver inner) : ForwardingDriver(inner)
{
    public bool Hold { get; set; }

    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        Stream stream = await Inner.StartOutgoingAsync(vmId, cancellationToken);
        return Hold ? new SilentStream(stream) : stream;
    }
}
