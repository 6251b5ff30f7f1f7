using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>A hypervisor driver that dies with its host: before or after any call, as the plan says.</summary>
internal sealed class CrashingDriver(IHypervisorDriver inner, CrashPlan plan) : IHypervisorDriver
{
    public async ValueTask<Stream> StartOutgoingAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("StartOutgoing", () => inner.StartOutgoingAsync(vmId, cancellationToken));

    public async ValueTask ResumeSourceAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("ResumeSource", async () => { await inner.ResumeSourceAsync(vmId, cancellationToken); return 0; });

    public async ValueTask<IReadOnlyList<string>> DiscardSourceAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("DiscardSource", () => inner.DiscardSourceAsync(vmId, cancellationToken));

    public async ValueTask<Stream> PrepareDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("PrepareDestination", () => inner.PrepareDestinationAsync(vmId, cancellationToken));

    public async ValueTask FinishIncomingAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("FinishIncoming", async () => { await inner.FinishIncomingAsync(vmId, cancellationToken); return 0; });

    public async ValueTask ActivateDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("ActivateDestination", async () => { await inner.ActivateDestinationAsync(vmId, cancellationToken); return 0; });

    public async ValueTask<IReadOnlyList<string>> DestroyDestinationAsync(string vmId, CancellationToken cancellationToken = default) =>
        await Around("DestroyDestination", () => inner.DestroyDestinationAsync(vmId, cancellationToken));

    public ValueTask<VmStatus> QueryAsync(string vmId, CancellationToken cancellationToken = default) => inner.QueryAsync(vmId, cancellationToken);

    private async ValueTask<T> Around<T>(string call, Func<ValueTask<T>> action)
    {
        plan.Step("before " + call);
        T result = await action();
        plan.Step("after " + call);
        return result;
    }
}
