using System.Buffers;
using System.IO.Pipelines;

namespace SecureMigration.Fuzz.Peer;

/// <summary>
/// A transport's input that delivers what the peer sent one chunk per read, as TCP may: a reader that never asks
/// for more (or asks forever) shows up as a hang, which afl-fuzz records. After the last chunk the input ends.
/// </summary>
internal sealed class ChunkedPipeReader : PipeReader
{
    private readonly Queue<byte[]> _chunks;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));

    public ChunkedPipeReader(IEnumerable<byte[]> chunks) => _chunks = new Queue<byte[]>(chunks);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        DeliverNext();
        return _pipe.Reader.ReadAsync(cancellationToken);
    }

    public override bool TryRead(out ReadResult result)
    {
        DeliverNext();
        return _pipe.Reader.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => _pipe.Reader.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _pipe.Reader.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => _pipe.Reader.CancelPendingRead();

    public override void Complete(Exception? exception = null) => _pipe.Reader.Complete(exception);

    private void DeliverNext()
    {
        if (_chunks.TryDequeue(out byte[]? chunk))
        {
            _pipe.Writer.Write(chunk);
            _ = _pipe.Writer.FlushAsync().AsTask();
        }
        else
        {
            _pipe.Writer.Complete();
        }
    }
}
