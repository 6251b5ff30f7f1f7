using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>A hypervisor driver that dies with its host: before or after any call, as the plan says.</summary>
internal sealed class CrashingDriver(HypervisorDriver inner, CrashPlan plan) : HypervisorDriver
{
    protected override ValueTask PrepareOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        inner.PrepareOutgoingAsync(vmId, cancellationToken);

    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("StartOutgoing", () => inner.StartOutgoingAsync(vmId, cancellationToken));

    protected override async ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("ResumeSource", async () => { await inner.ResumeSourceAsync(vmId, cancellationToken); return 0; });

    protected override async ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("DiscardSource", () => inner.DiscardSourceAsync(vmId, cancellationToken));

    protected override async ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("PrepareDestination", () => inner.PrepareDestinationAsync(vmId, cancellationToken));

    protected override async ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("FinishIncoming", async () => { await inner.FinishIncomingAsync(vmId, cancellationToken); return 0; });

    protected override async ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await Around("ActivateDestination", async () => { await inner.ActivateDestinationAsync(vmId, cancellationToken); return 0; });

    protected override async ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId,
        CancellationToken cancellationToken) =>
        await Around("DestroyDestination", () => inner.DestroyDestinationAsync(vmId, cancellationToken));

    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) => inner.QueryAsync(vmId,
        cancellationToken);

    private async ValueTask<T> Around<T>(string call, Func<ValueTask<T>> action)
    {
        plan.Step("before " + call);
        T result = await action();
        plan.Step("after " + call);
        return result;
    }
}
