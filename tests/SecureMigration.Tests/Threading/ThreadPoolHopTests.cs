using SecureMigration.Threading;

namespace SecureMigration.Tests.Threading;

/// <summary>
/// Blocking work (a flush, a copy, a process start) begins with <see cref="ThreadPoolHop.IfNeeded"/>: reached from a thread of
/// the socket engine (where the tool runs socket completions inline), it must go on on a pool thread, never on the engine's.
/// </summary>
public sealed class ThreadPoolHopTests
{
    [Fact]
    public async Task FromAThreadOutsideThePool_GoesOnOnAPoolThread()
    {
        Task<(bool Before, bool After)>? probe = null;
        var engine = new Thread(() => probe = ProbeAsync()) { IsBackground = true, Name = "stand-in socket engine" };
        engine.Start();
        engine.Join();

        (bool before, bool after) = await probe!;

        Assert.False(before);
        Assert.True(after);
    }

    [Fact]
    public async Task OnAPoolThread_GoesOnWhereItIs()
    {
        (int before, int after) = await Task.Run(async () =>
        {
            int thread = Environment.CurrentManagedThreadId;
            await ThreadPoolHop.IfNeeded();
            return (thread, Environment.CurrentManagedThreadId);
        });

        Assert.Equal(before, after);
    }

    private static async Task<(bool Before, bool After)> ProbeAsync()
    {
        bool before = Thread.CurrentThread.IsThreadPoolThread;
        await ThreadPoolHop.IfNeeded();
        return (before, Thread.CurrentThread.IsThreadPoolThread);
    }
}
