using System.Threading.Tasks.Sources;
using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Sanitization;

/// <summary>
/// A thread of its own that performs one positioned read or write at a time, for one I/O slot of a wipe. .NET runs
/// <see cref="RandomAccess.WriteAsync(SafeFileHandle, ReadOnlyMemory{byte}, long, CancellationToken)"/> on a handle
/// not opened for asynchronous I/O as a blocking call on a thread-pool thread; a fresh process on two cores has two of
/// those, so four writes "in flight" were two or three at the device (strace: three threads, mostly one to three calls
/// open at once) until the pool grew. With a thread per slot, as many operations are at the device as there are slots,
/// as with fio's libaio at the same depth. A completion resumes the awaiting code on this thread, at once: a hop through
/// the thread pool between one read's completion and the next read's issue cost the verification about half its speed
/// (strace: the four reads went out in batches, each after the last of the batch before came back). A write may bring a
/// <see cref="BlockFill"/>: the slot fills its block, then writes it, so the slots generate a random pass in parallel.
/// A slot waits for its next request without spinning (<see cref="AutoResetEvent"/>): with <see cref="SemaphoreSlim"/>'s
/// spin before blocking, four slot threads on two cores took about 50 ms more CPU per GiB of a random pass on a RAM-backed
/// loop device (the keystream's cores), for the same wall time.
/// </summary>
internal sealed class IoSlot : IValueTaskSource<int>, IValueTaskSource, IDisposable
{
    private readonly Thread? _thread;
    private readonly AutoResetEvent _requested = new(false);
    private ManualResetValueTaskSourceCore<int> _completion = new() { RunContinuationsAsynchronously = false };
    private SafeFileHandle? _handle;
    private Memory<byte> _buffer;
    private BlockFill? _fill;
    private long _offset;
    private bool _write;
    private CancellationToken _cancellation;
    private volatile bool _stopping;

    /// <summary>Starts the slot's thread; with <paramref name="inline"/>, a test's stand-in for a device faster than any code
    /// that waits on it: there is no thread, and an operation has landed before the call that issued it returns.</summary>
    public IoSlot(bool inline = false)
    {
        if (!inline)
        {
            _thread = new Thread(Serve) { IsBackground = true, Name = "secmig wipe I/O" };
            _thread.Start();
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>; the slot's previous operation must have been
    /// awaited.</summary>
    public ValueTask WriteAsync(SafeFileHandle handle, ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken) =>
        new(this, Start(handle, System.Runtime.InteropServices.MemoryMarshal.AsMemory(data), offset, true, null, cancellationToken));

    /// <summary>Fills <paramref name="block"/> with what <paramref name="fill"/> puts at <paramref name="offset"/>, on the slot's
    /// thread, then writes it there; the block is the slot's until the write completes.</summary>
    public ValueTask FillAndWriteAsync(SafeFileHandle handle, Memory<byte> block, long offset, BlockFill fill,
        CancellationToken cancellationToken) => new(this, Start(handle, block, offset, true, fill, cancellationToken));

    /// <summary>Reads into <paramref name="buffer"/> from <paramref name="offset"/>; returns the bytes read (fewer at the end).</summary>
    public ValueTask<int> ReadAsync(SafeFileHandle handle, Memory<byte> buffer, long offset, CancellationToken cancellationToken) =>
        new(this, Start(handle, buffer, offset, false, null, cancellationToken));

    public int GetResult(short token) => _completion.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// Stops the thread once the operation it runs (if any) is done; the caller has awaited every operation it issued. Called
    /// on the slot's own thread (code resumed by its last completion), it returns at once and the thread ends after it.
    /// </summary>
    public void Dispose()
    {
        if (_thread is null)
        {
            _requested.Dispose();
            return;
        }

        _stopping = true;
        _requested.Set();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    private short Start(SafeFileHandle handle, Memory<byte> buffer, long offset, bool write, BlockFill? fill,
        CancellationToken cancellationToken)
    {
        _completion.Reset();
        (_handle, _buffer, _offset, _write, _fill, _cancellation) = (handle, buffer, offset, write, fill, cancellationToken);
        short version = _completion.Version;
        if (_thread is null)
        {
            Run();
        }
        else
        {
            _requested.Set();
        }

        return version;
    }

    private void Serve()
    {
        using AutoResetEvent requested = _requested;
        while (true)
        {
            requested.WaitOne();
            if (_stopping)
            {
                return;
            }

            Run();
        }
    }

    /// <summary>Performs the requested operation and completes it (resuming the awaiting code here, if it already waits).</summary>
    private void Run()
    {
        try
        {
            _cancellation.ThrowIfCancellationRequested();
            int done = _buffer.Length;
            if (_write)
            {
                _fill?.Fill(_offset, _buffer.Span);
                RandomAccess.Write(_handle!, _buffer.Span, _offset);
            }
            else
            {
                done = RandomAccess.Read(_handle!, _buffer.Span, _offset);
            }

            (_handle, _fill) = (null, null);
            _completion.SetResult(done);
        }
        catch (Exception e)
        {
            (_handle, _fill) = (null, null);
            _completion.SetException(e);
        }
    }
}
