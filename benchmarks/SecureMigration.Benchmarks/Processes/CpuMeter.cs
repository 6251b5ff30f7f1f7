namespace SecureMigration.Benchmarks.Processes;

/// <summary>
/// Measures what a group of running processes use between <see cref="Start"/> and <see cref="StopAsync"/> from
/// <c>/proc</c>. The counters are read at the start, every 100 ms and at the stop, so a process or thread that exits in
/// between counts with its last reading (at most 100 ms stale); one that lives to the stop counts exactly. The seconds of
/// QEMU's vCPU threads (their ids from <c>query-cpus-fast</c>) are kept apart as well: what is left is QEMU's migration work.
/// </summary>
internal sealed class CpuMeter
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly int[] _pids;
    private readonly HashSet<int> _vcpuThreads;
    private readonly Dictionary<int, (double First, double Last)> _seconds = [];
    private readonly Dictionary<(int Pid, int Thread), (long Voluntary, long Involuntary)> _firstSwitches = [];
    private readonly Dictionary<(int Pid, int Thread), (long Voluntary, long Involuntary)> _lastSwitches = [];
    private readonly Dictionary<(int Pid, int Thread), (double First, double Last)> _vcpus = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _polling = Task.CompletedTask;

    private CpuMeter(int[] pids, HashSet<int> vcpuThreads)
    {
        _pids = pids;
        _vcpuThreads = vcpuThreads;
    }

    /// <summary>Takes the first reading of <paramref name="pids"/> and keeps reading until stopped.</summary>
    /// <param name="pids">The processes.</param>
    /// <param name="vcpuThreads">The ids of their threads that run a guest's vCPUs.</param>
    public static CpuMeter Start(IEnumerable<int> pids, IEnumerable<int>? vcpuThreads = null)
    {
        var meter = new CpuMeter([.. pids], [.. vcpuThreads ?? []]);
        meter.Poll(first: true);
        meter._polling = meter.PollAsync();
        return meter;
    }

    /// <summary>Gets the seconds the processes' vCPU threads used, once stopped.</summary>
    public double VcpuSeconds => _vcpus.Values.Sum(s => s.Last - s.First);

    /// <summary>Takes the last reading and returns what the processes used since the start.</summary>
    public async Task<CpuUsage> StopAsync()
    {
        await _stop.CancelAsync();
        await _polling;
        Poll(first: false);
        _stop.Dispose();
        double seconds = _seconds.Values.Sum(s => s.Last - s.First);
        long voluntary = 0, involuntary = 0;
        foreach (((int, int) thread, (long v, long i)) in _lastSwitches)
        {
            (long v0, long i0) = _firstSwitches.GetValueOrDefault(thread);
            voluntary += v - v0;
            involuntary += i - i0;
        }

        return new CpuUsage(seconds, voluntary, involuntary);
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Poll(first: false);
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Poll(bool first)
    {
        foreach (int pid in _pids)
        {
            if (ProcFiles.Seconds(pid) is { } seconds)
            {
                double since = !first && _seconds.TryGetValue(pid, out (double First, double Last) known) ? known.First : seconds;
                _seconds[pid] = (since, seconds);
            }

            foreach ((int thread, long voluntary, long involuntary) in ProcFiles.Switches(pid))
            {
                if (_vcpuThreads.Contains(thread) && ProcFiles.ThreadSeconds(pid, thread) is { } vcpu)
                {
                    double threadSince = _vcpus.TryGetValue((pid, thread), out (double First, double Last) known) ? known.First
                        : first ? vcpu : 0;
                    _vcpus[(pid, thread)] = (threadSince, vcpu);
                }

                _lastSwitches[(pid, thread)] = (voluntary, involuntary);
                if (first)
                {
                    _firstSwitches[(pid, thread)] = (voluntary, involuntary);
                }
            }
        }
    }
}
