using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Qemu;

/// <summary>
/// The monitor connection on which a VM's next step was readied ahead (its checks asked, its settings made), so that the
/// step, on that very connection (the same QEMU), need not do it again. A mark serves one step; work that failed, or ran on
/// another connection, leaves none.
/// </summary>
internal sealed class MonitorMark
{
    private QmpClient? _on;

    /// <summary>Forgets any mark, runs <paramref name="work"/> on <paramref name="qmp"/>, and marks it once the work passed.</summary>
    /// <param name="qmp">The monitor connection the work runs on.</param>
    /// <param name="work">The work; its failure is thrown, with no mark left.</param>
    /// <returns>A task that completes once the work passed.</returns>
    public async Task ReadyAsync(QmpClient qmp, Func<Task> work)
    {
        Forget();
        await work().ConfigureAwait(false);
        Volatile.Write(ref _on, qmp);
    }

    /// <summary>Returns whether the work was readied on <paramref name="qmp"/>, and forgets it either way.</summary>
    /// <param name="qmp">The connection the step runs on.</param>
    /// <returns><see langword="true"/> when the step may skip the work.</returns>
    public bool Take(QmpClient qmp) => ReferenceEquals(Interlocked.Exchange(ref _on, null), qmp);

    /// <summary>Forgets the mark (the step was abandoned, or the VM left).</summary>
    public void Forget() => Volatile.Write(ref _on, null);
}
