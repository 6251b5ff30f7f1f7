using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Org.BouncyCastle.Tls;

namespace SecureMigration.Channel.Tls;

/// <summary>
/// Drives a non-blocking BouncyCastle <see cref="TlsProtocol"/> over a transport <see cref="IDuplexPipe"/>:
/// ciphertext read from the transport is offered to the protocol, and the protocol's output is written back.
/// The protocol object is not thread-safe, so every call into it holds <see cref="_protocolGate"/>; writes to
/// the transport are serialized by <see cref="_outputGate"/>.
/// </summary>
internal sealed class TlsEngine : IDisposable
{
    private const int ScratchSize = 16 * 1024;

    private readonly TlsProtocol _protocol;
    private readonly HalfClose _halfClose;
    private readonly IDuplexPipe _transport;
    private readonly Lock _protocolGate = new();
    private readonly SemaphoreSlim _outputGate = new(1, 1);
    private readonly byte[] _inputScratch = new byte[ScratchSize];

    public TlsEngine(TlsProtocol protocol, IDuplexPipe transport)
    {
        _protocol = protocol;
        _halfClose = ((IHalfCloseProtocol)protocol).HalfClose;
        _transport = transport;
    }

    public bool IsHandshaking
    {
        get
        {
            lock (_protocolGate)
            {
                return _protocol.IsHandshaking;
            }
        }
    }

    /// <summary>Whether the peer's direction has ended: close_notify received, or the protocol closed.</summary>
    public bool PeerClosed
    {
        get
        {
            lock (_protocolGate)
            {
                return _halfClose.PeerClosed || _protocol.IsClosed;
            }
        }
    }

    public int ApplicationDataAvailable
    {
        get
        {
            lock (_protocolGate)
            {
                return _halfClose.Limit(_protocol.GetAvailableInputBytes());
            }
        }
    }

    /// <summary>Runs the handshake until it completes; the caller maps failures.</summary>
    public async ValueTask HandshakeAsync(CancellationToken cancellationToken)
    {
        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        while (IsHandshaking)
        {
            bool ended = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (ended && IsHandshaking)
            {
                throw new EndOfStreamException("The transport ended during the TLS handshake.");
            }
        }
    }

    /// <summary>
    /// Reads once from the transport, offers every byte to the protocol and sends whatever it answers
    /// (handshake messages, alerts, key updates). Returns <see langword="true"/> when the transport has ended.
    /// </summary>
    public async ValueTask<bool> ReceiveAsync(CancellationToken cancellationToken)
    {
        ReadResult result = await _transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> buffer = result.Buffer;
        try
        {
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                Offer(segment);
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
            _transport.Input.AdvanceTo(buffer.End);
        }

        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        return result.IsCompleted && buffer.IsEmpty;
    }

    /// <summary>Copies decrypted application data into <paramref name="destination"/>; returns the count.</summary>
    public int ReadApplicationData(Memory<byte> destination)
    {
        if (!MemoryMarshal.TryGetArray(destination, out ArraySegment<byte> target))
        {
            throw new InvalidOperationException("Application buffers must be array-backed.");
        }

        lock (_protocolGate)
        {
            int count = _protocol.ReadInput(target.Array!, target.Offset, Math.Min(target.Count, _halfClose.Limit(_protocol.GetAvailableInputBytes())));
            _halfClose.Consumed(count);
            return count;
        }
    }

    /// <summary>Encrypts <paramref name="data"/> into records and sends them.</summary>
    public async ValueTask WriteApplicationDataAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken)
    {
        foreach (ReadOnlyMemory<byte> segment in data)
        {
            if (MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
            {
                lock (_protocolGate)
                {
                    _protocol.WriteApplicationData(array.Array!, array.Offset, array.Count);
                }
            }
            else
            {
                byte[] copy = segment.ToArray();
                lock (_protocolGate)
                {
                    _protocol.WriteApplicationData(copy, 0, copy.Length);
                }
            }

            await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Signals the end of the transport: throws <see cref="TlsNoCloseNotifyException"/> when the peer sent no close_notify.</summary>
    public void CloseInput()
    {
        lock (_protocolGate)
        {
            _protocol.CloseInput();
        }
    }

    /// <summary>Sends close_notify (ending this end's direction only) and completes the transport's output.</summary>
    public async ValueTask CloseOutputAsync(CancellationToken cancellationToken)
    {
        lock (_protocolGate)
        {
            if (_halfClose.LocalClosed || _protocol.IsClosed)
            {
                return;
            }

            ((IHalfCloseProtocol)_protocol).CloseOutput();
        }

        await FlushOutputAsync(cancellationToken).ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Moves everything the protocol has queued into the transport and flushes it.</summary>
    public async ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        await _outputGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool wrote = false;
            while (true)
            {
                lock (_protocolGate)
                {
                    int pending = _protocol.GetAvailableOutputBytes();
                    if (pending == 0)
                    {
                        break;
                    }

                    Memory<byte> memory = _transport.Output.GetMemory(Math.Min(pending, 64 * 1024));
                    if (!MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)memory, out ArraySegment<byte> target))
                    {
                        throw new InvalidOperationException("Transport buffers must be array-backed.");
                    }

                    int count = _protocol.ReadOutput(target.Array!, target.Offset, Math.Min(pending, target.Count));
                    _transport.Output.Advance(count);
                    wrote = true;
                }
            }

            if (wrote)
            {
                await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _outputGate.Release();
        }
    }

    public void Dispose()
    {
        lock (_protocolGate)
        {
            if (!_protocol.IsClosed)
            {
                try
                {
                    _protocol.Close();
                }
                catch (IOException)
                {
                    // Already failed: nothing more to close.
                }
            }
        }

        _outputGate.Dispose();
    }

    private void Offer(ReadOnlyMemory<byte> segment)
    {
        if (MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
        {
            lock (_protocolGate)
            {
                _protocol.OfferInput(array.Array!, array.Offset, array.Count);
            }

            return;
        }

        for (int offset = 0; offset < segment.Length; offset += ScratchSize)
        {
            int count = Math.Min(ScratchSize, segment.Length - offset);
            segment.Span.Slice(offset, count).CopyTo(_inputScratch);
            lock (_protocolGate)
            {
                _protocol.OfferInput(_inputScratch, 0, count);
            }
        }
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
