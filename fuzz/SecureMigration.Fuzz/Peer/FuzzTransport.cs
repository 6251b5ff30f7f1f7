using System.Buffers;
using System.IO.Pipelines;

namespace SecureMigration.Fuzz.Peer;

/// <summary>A transport whose input is the fuzzing peer's bytes, in chunks, and whose output is kept and discarded.</summary>
internal sealed class FuzzTransport(IEnumerable<byte[]> chunks) : IDuplexPipe
{
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));

    public PipeReader Input { get; } = new ChunkedPipeReader(chunks);

    public PipeWriter Output => _output.Writer;

    /// <summary>Everything written to <see cref="Output"/> so far.</summary>
    public byte[] Sent()
    {
        _output.Reader.TryRead(out ReadResult result);
        byte[] sent = result.Buffer.ToArray();
        _output.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        return sent;
    }
}
