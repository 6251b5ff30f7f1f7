using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Org.BouncyCastle.Tls;
using SecureMigration.Channel.Records;

namespace SecureMigration.Channel.Tls;

/// <summary>
/// Drives a non-blocking BouncyCastle <see cref="TlsProtocol"/> through the handshake over a transport
/// <see cref="IDuplexPipe"/>. Input is offered one whole record at a time and offering stops the moment the
/// handshake completes, so every byte after the peer's Finished stays in the transport for the record layer.
/// </summary>
internal sealed class TlsEngine(TlsProtocol protocol, IDuplexPipe transport) : IDisposable
{
    /// <summary>Runs the handshake until it completes; the caller maps failures.</summary>
    public async ValueTask HandshakeAsync(CancellationToken cancellationToken)
    {
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        while (protocol.IsHandshaking)
        {
            ReadResult result = await transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (protocol.IsHandshaking && TryTakeRecord(ref buffer, out ReadOnlySequence<byte> record))
                {
                    Offer(record);
                }
            }
            catch (Exception)
            {
                // The protocol has queued a fatal alert for the peer; send it before reporting the failure.
                await TrySendPendingAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                // Once the handshake is done, what follows is unread record-layer data, not "examined and
                // incomplete": leave it unexamined so the record layer's first read returns it at once.
                transport.Input.AdvanceTo(buffer.Start, protocol.IsHandshaking ? buffer.End : buffer.Start);
            }

            await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted && protocol.IsHandshaking)
            {
                throw new EndOfStreamException("The transport ended during the TLS handshake.");
            }
        }
    }

    public void Dispose()
    {
        if (!protocol.IsClosed)
        {
            try
            {
                protocol.Close();
            }
            catch (IOException)
            {
                // Already failed: nothing more to close.
            }
        }
    }

    /// <summary>
    /// Takes one record; a header that declares an impossible length is taken alone, so BouncyCastle rejects it
    /// with the right alert instead of this loop waiting for bytes that never come.
    /// </summary>
    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> record)
    {
        record = default;
        if (!RecordFraming.TryReadHeader(buffer, out _, out int length))
        {
            return false;
        }

        int take = length > RecordFraming.MaxFragmentLength ? RecordFraming.HeaderLength : RecordFraming.HeaderLength + length;
        return RecordFraming.TryTake(ref buffer, take, out record);
    }

    private void Offer(ReadOnlySequence<byte> record)
    {
        if (record.IsSingleSegment && MemoryMarshal.TryGetArray(record.First, out ArraySegment<byte> array))
        {
            protocol.OfferInput(array.Array!, array.Offset, array.Count);
            return;
        }

        byte[] copy = record.ToArray();
        protocol.OfferInput(copy, 0, copy.Length);
    }

    private async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        int pending = protocol.GetAvailableOutputBytes();
        if (pending == 0)
        {
            return;
        }

        while (pending > 0)
        {
            Memory<byte> memory = transport.Output.GetMemory(pending);
            if (!MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)memory, out ArraySegment<byte> target))
            {
                throw new InvalidOperationException("Transport buffers must be array-backed.");
            }

            int count = protocol.ReadOutput(target.Array!, target.Offset, Math.Min(pending, target.Count));
            transport.Output.Advance(count);
            pending -= count;
        }

        await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask TrySendPendingAsync()
    {
        try
        {
            await FlushOutputAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The transport is gone; the failure is reported by the caller.
        }
    }
}
