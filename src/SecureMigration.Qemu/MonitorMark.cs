using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Qemu;

/// <summary>
/// The monitor connection on which a VM's next step was readied ahead (its checks asked, its settings made), so that the
/// step, on that very connection (the same QEMU) and soon after, need not do it again. A mark serves one step and lasts
/// <paramref name="maxAge"/>: a run that ended before its step (a veto, a failed checkpoint) leaves a mark that no later
/// step relies on once it is that old. Work that failed, or ran on another connection, leaves none.
/// </summary>
/// <param name="time">The clock.</param>
/// <param name="maxAge">How long a mark may be relied on.</param>
internal sealed class MonitorMark(TimeProvider time, TimeSpan maxAge)
{
    private readonly Lock _gate = new();
    private QmpClient? _on;
    private long _at;

    /// <summary>Forgets any mark, runs <paramref name="work"/> on <paramref name="qmp"/>, and marks it once the work passed.</summary>
    /// <param name="qmp">The monitor connection the work runs on.</param>
    /// <param name="work">The work; its failure is thrown, with no mark left.</param>
    /// <returns>A task that completes once the work passed.</returns>
    public async Task ReadyAsync(QmpClient qmp, Func<Task> work)
    {
        Forget();
        await work().ConfigureAwait(false);
        lock (_gate)
        {
            _on = qmp;
            _at = time.GetTimestamp();
        }
    }

    /// <summary>Returns whether the work was readied on <paramref name="qmp"/> less than the mark's age ago, and forgets it either
    /// way.</summary>
    /// <param name="qmp">The connection the step runs on.</param>
    /// <returns><see langword="true"/> when the step may skip the work.</returns>
    public bool Take(QmpClient qmp)
    {
        lock (_gate)
        {
            bool fresh = ReferenceEquals(_on, qmp) && time.GetElapsedTime(_at) < maxAge;
            _on = null;
            return fresh;
        }
    }

    /// <summary>Forgets the mark (the step was abandoned, or the VM left).</summary>
    public void Forget()
    {
        lock (_gate)
        {
            _on = null;
        }
    }
}
