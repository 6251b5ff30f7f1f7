using System.Buffers;
using System.IO.Pipelines;

namespace SecureMigration.Testing.InMemory;

/// <summary>
/// A one-way in-memory link that carries bytes from <see cref="Writer"/> to <see cref="Reader"/> and injects one
/// <see cref="WireFault"/> on the way, as System.IO.Pipelines' own tests wrap pipes: truncation, a flipped byte and an
/// abort happen in the pump between two pipes; a stall happens in the reader, which, once the receiver consumed the
/// fault's offset, completes no read until it is cancelled, and reports through <see cref="ReaderStalled"/> that the
/// receiver now waits on one.
/// </summary>
public sealed class FaultInjectingPipe
{
    private readonly Pipe _sent = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _delivered = new(new PipeOptions(useSynchronizationContext: false));
    private readonly WireFault _fault;

    /// <summary>Starts a link that injects <paramref name="fault"/> (or none, with <see cref="WireFault.None"/>).</summary>
    /// <param name="fault">The fault, at its byte offset of the stream.</param>
    public FaultInjectingPipe(WireFault fault)
    {
        _fault = fault;
        Reader = fault.Kind == WireFaultKind.Stall ? new StallingPipeReader(_delivered.Reader, fault.At) : _delivered.Reader;
        Pumping = Task.Run(PumpAsync);
    }

    /// <summary>Gets the sending end.</summary>
    public PipeWriter Writer => _sent.Writer;

    /// <summary>Gets the receiving end.</summary>
    public PipeReader Reader { get; }

    /// <summary>Gets a task that completes when the receiver waits on a read the stall never completes (never, with no stall).</summary>
    public Task ReaderStalled => (Reader as StallingPipeReader)?.Stalled ?? new TaskCompletionSource().Task;

    /// <summary>Gets the pump; it ends when either end completes or the fault ended the link.</summary>
    public Task Pumping { get; }

    private async Task PumpAsync()
    {
        long offset = 0;
        try
        {
            while (true)
            {
                ReadResult read = await _sent.Reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = read.Buffer;
                bool cut = _fault.Kind is WireFaultKind.Truncate or WireFaultKind.Abort && _fault.At < offset + buffer.Length;
                ReadOnlySequence<byte> carried = cut ? buffer.Slice(0, _fault.At - offset) : buffer;
                Forward(carried, offset);
                offset += carried.Length;
                _sent.Reader.AdvanceTo(carried.End);
                FlushResult flushed = await _delivered.Writer.FlushAsync().ConfigureAwait(false);
                if (cut)
                {
                    End(_fault.Kind == WireFaultKind.Abort ? new IOException($"the link broke after {offset} bytes") : null);
                    return;
                }

                if (flushed.IsCompleted || read.IsCompleted)
                {
                    End(null);
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            End(e);
        }
    }

    private void Forward(ReadOnlySequence<byte> carried, long offset)
    {
        foreach (ReadOnlyMemory<byte> segment in carried)
        {
            Span<byte> target = _delivered.Writer.GetSpan(segment.Length)[..segment.Length];
            segment.Span.CopyTo(target);
            long flip = _fault.At - offset;
            if (_fault.Kind == WireFaultKind.FlipByte && flip >= 0 && flip < segment.Length)
            {
                target[(int)flip] ^= 0xFF;
            }

            _delivered.Writer.Advance(segment.Length);
            offset += segment.Length;
        }
    }

    private void End(Exception? error)
    {
        _delivered.Writer.Complete(error);
        _sent.Reader.Complete(error);
    }

    /// <summary>A reader that, once <c>stallAt</c> bytes were consumed, completes no read until it is cancelled.</summary>
    private sealed class StallingPipeReader(PipeReader inner, long stallAt) : PipeReader
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ReadOnlySequence<byte> _last;
        private long _consumed;

        public Task Stalled => _stalled.Task;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (_consumed >= stallAt)
            {
                _stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            ReadResult result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            result = default;
            return false;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _consumed += _last.Slice(_last.Start, consumed).Length;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}
