using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace SecureMigration.Channel.Records;

/// <summary>
/// The channel's <see cref="PipeReader"/>: a read pulls records from the transport and opens them, on the
/// caller's own thread, into a buffer the caller then consumes. Nothing is read from the network until the
/// application asks, so a slow reader pushes back on the sender through TCP.
/// </summary>
internal sealed class OpeningPipeReader : PipeReader
{
    private readonly RecordLayer _records;
    private readonly Action<long> _received;
    private readonly Action<SecureChannelException> _failed;
    private readonly WipingMemoryPool _pool = new();
    private readonly Pipe _opened;
    private CancellationTokenSource _pending = new();
    private bool _ended;

    public OpeningPipeReader(RecordLayer records, ReadOnlySpan<byte> alreadyOpened, Action<long> received,
        Action<SecureChannelException> failed)
    {
        _records = records;
        _received = received;
        _failed = failed;
        _opened = new Pipe(new PipeOptions(pool: _pool, pauseWriterThreshold: 0, minimumSegmentSize: WipingMemoryPool.BlockSize,
            readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        if (!alreadyOpened.IsEmpty)
        {
            _opened.Writer.Write(alreadyOpened);
            _opened.Writer.FlushAsync().GetAwaiter().GetResult();
        }
    }

    public override bool TryRead(out ReadResult result) => _opened.Reader.TryRead(out result);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_opened.Reader.TryRead(out ReadResult result))
            {
                return result;
            }

            if (_ended)
            {
                return await _opened.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }

            // A read may open only control records (KeyUpdate, NewSessionTicket): keep reading until data or the end.
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => _opened.Reader.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _opened.Reader.AdvanceTo(consumed, examined);

    public override void CancelPendingRead()
    {
        _pending.Cancel();
        _opened.Reader.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null)
    {
        _ended = true;
        _opened.Reader.Complete(exception);
        _opened.Writer.Complete();
        _pending.Dispose();
        _pool.Dispose();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        // One token source serves every read (CancelPendingRead cancels it); it is replaced only after a cancel.
        if (!_pending.TryReset())
        {
            _pending.Dispose();
            _pending = new CancellationTokenSource();
        }

        using CancellationTokenRegistration caller = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!)
            .Cancel(), _pending);
        PipeWriter writer = _opened.Writer;
        try
        {
            long before = writer.UnflushedBytes;
            bool open = await _records.ReceiveAsync(writer, _pending.Token).ConfigureAwait(false);
            _received(writer.UnflushedBytes - before);
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (!open)
            {
                _ended = true;
                await writer.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // CancelPendingRead: the inner reader returns a canceled result.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _ended = true;
            SecureChannelException failure = e as SecureChannelException ?? new SecureChannelException(ChannelFailureReason.Truncated,
                $"The connection failed ({e.Message}) before the peer's close_notify, so the data may be cut short.", e);
            _failed(failure);
            await writer.CompleteAsync(failure).ConfigureAwait(false);
        }
    }
}
