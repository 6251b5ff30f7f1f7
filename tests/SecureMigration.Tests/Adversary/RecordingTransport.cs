using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace SecureMigration.Tests.Adversary;

/// <summary>A transport that remembers every byte this end sent, so a record it sent can be sent again (a replay).</summary>
internal sealed class RecordingTransport(IDuplexPipe inner) : IDuplexPipe
{
    private readonly RecordingWriter _output = new(inner.Output);

    public PipeReader Input => inner.Input;

    public PipeWriter Output => _output;

    /// <summary>Sends the last whole TLS record this end sent once more, byte for byte.</summary>
    public async Task ReplayLastRecordAsync()
    {
        ReadOnlyMemory<byte> sent = _output.Sent.WrittenMemory;
        int last = 0;
        for (int at = 0; at + 5 <= sent.Length; at += 5 + BinaryPrimitives.ReadUInt16BigEndian(sent.Span[(at + 3)..]))
        {
            last = at;
        }

        await inner.Output.WriteAsync(sent[last..].ToArray());
    }

    private sealed class RecordingWriter(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _handedOut;

        public ArrayBufferWriter<byte> Sent { get; } = new();

        public override Memory<byte> GetMemory(int sizeHint = 0) => _handedOut = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            Sent.Write(_handedOut.Span[..bytes]);
            _handedOut = _handedOut[bytes..];
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
