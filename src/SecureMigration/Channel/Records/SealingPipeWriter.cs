using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace SecureMigration.Channel.Records;

/// <summary>
/// The channel's <see cref="PipeWriter"/>: the application writes plaintext straight into the transport's
/// buffer, inside a reserved record, and each full record (or the partial one at a flush) is sealed in place.
/// No intermediate pipe and no extra thread sit between the application and the socket.
/// </summary>
internal sealed class SealingPipeWriter(RecordLayer records, Action<long> sent) : PipeWriter
{
    private Memory<byte> _record;
    private int _filled;
    private byte[]? _staging;
    private bool _completed;

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_staging is not null)
        {
            SealStaged(bytes);
            return;
        }

        if (bytes > _record.Length - _filled)
        {
            throw new InvalidOperationException($"Advanced {bytes} bytes past the {_record.Length - _filled} bytes the writer handed out.");
        }

        _filled += bytes;
        if (_filled == RecordLayer.MaxPlaintext)
        {
            SealCurrent();
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_staging is not null)
        {
            // Memory handed out and never advanced is abandoned, as PipeWriter allows.
            ArrayPool<byte>.Shared.Return(_staging, clearArray: true);
            _staging = null;
        }

        if (sizeHint > RecordLayer.MaxPlaintext)
        {
            // More than one record cannot be contiguous in place: stage it and seal record by record.
            SealCurrent();
            _staging = ArrayPool<byte>.Shared.Rent(sizeHint);
            return _staging;
        }

        if (_record.IsEmpty || RecordLayer.MaxPlaintext - _filled < Math.Max(sizeHint, 1))
        {
            SealCurrent();
            _record = records.ReserveRecord();
            _filled = 0;
        }

        return _record[_filled..];
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        SealCurrent();
        FlushResult result = await records.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new FlushResult(result.IsCanceled, isCompleted: false);
    }

    public override void CancelPendingFlush() => records.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => CompleteAsync(exception).AsTask().GetAwaiter().GetResult();

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_staging is not null)
        {
            ArrayPool<byte>.Shared.Return(_staging, clearArray: true);
            _staging = null;
        }

        if (exception is not null)
        {
            // The application gave up: no close_notify, so the peer cannot mistake this for a complete stream,
            // and the plaintext of the unsealed record is wiped from the transport's buffer.
            _record.Span.Clear();
            await records.AbortOutputAsync(exception).ConfigureAwait(false);
            return;
        }

        SealCurrent();
        await records.CloseOutputAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private void SealCurrent()
    {
        if (_filled > 0)
        {
            records.SealReserved(_filled);
            sent(_filled);
        }

        _record = default;
        _filled = 0;
    }

    private void SealStaged(int bytes)
    {
        byte[] staging = _staging!;
        _staging = null;
        try
        {
            ReadOnlySpan<byte> rest = staging.AsSpan(0, bytes);
            while (!rest.IsEmpty)
            {
                Span<byte> record = GetSpan();
                int count = Math.Min(record.Length, rest.Length);
                rest[..count].CopyTo(record);
                Advance(count);
                rest = rest[count..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging, clearArray: true);
        }
    }
}
