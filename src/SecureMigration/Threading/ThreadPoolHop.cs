using System.Runtime.CompilerServices;

namespace SecureMigration.Threading;

/// <summary>
/// Moves an async method onto a thread-pool thread unless it already runs on one. Work that blocks its thread (a disk
/// flush, a file copy, starting a process) begins with <c>await ThreadPoolHop.IfNeeded();</c>: where socket completions
/// run inline on the socket engine's own threads (the <c>secmig</c> tool turns that on for its data path), a flush reached
/// from a socket read would otherwise stall every other socket that engine serves. On a pool thread it costs nothing.
/// </summary>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    /// <summary>Gets whether the caller may go on where it is (it runs on a thread-pool thread).</summary>
    public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

    /// <summary>Returns the awaitable.</summary>
    /// <returns>An awaitable that resumes on a thread-pool thread.</returns>
    public static ThreadPoolHop IfNeeded() => default;

    /// <summary>Returns the awaiter (itself).</summary>
    /// <returns>This.</returns>
    public ThreadPoolHop GetAwaiter() => this;

    /// <summary>Ends the await.</summary>
    public void GetResult()
    {
    }

    /// <inheritdoc />
    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: false);

    /// <inheritdoc />
    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: false);
}
