using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace SecureMigration.Channel.Records;

/// <summary>
/// The TLS 1.3 record layer for the data phase (RFC 8446 §5), after BouncyCastle has run the handshake.
/// Records are sealed straight into the transport's buffers and opened straight into the application's, with
/// .NET's hardware AEADs, so each byte is copied once per direction. It handles close_notify as a half-close,
/// KeyUpdate both ways (and rekeys itself before the AEAD's usage limit), skips a server's NewSessionTicket, and
/// turns everything else into a failure (a client's NewSessionTicket, an inner plaintext over 2^14 + 1 bytes). No byte of a record is
/// delivered before its tag is verified.
/// One writer and one reader may use it at once: the reader only flags a KeyUpdate the writer then sends.
/// A failure is not answered with an alert: the channel is dropped, and the peer sees it truncated.
/// </summary>
internal sealed class RecordLayer : IDisposable
{
    public const int MaxPlaintext = 1 << 14;
    private const int HeaderLength = RecordFraming.HeaderLength;
    private const int MaxCiphertext = RecordFraming.MaxFragmentLength;
    private const byte ApplicationData = 23;
    private const byte Handshake = 22;
    private const byte Alert = 21;
    private const byte KeyUpdate = 24;

    private readonly IDuplexPipe _transport;
    private readonly TrafficKey _writeKey;
    private readonly TrafficKey _readKey;
    private readonly byte[] _scratch = new byte[HeaderLength + MaxCiphertext];
    private readonly PostHandshakeMessages _handshakeMessages;
    private volatile bool _keyUpdateRequested;
    private volatile bool _peerUpdateWanted;
    private Memory<byte> _reserved;
    private volatile SecureChannelException? _failure;

    /// <param name="transport">The connection the handshake ran on.</param>
    /// <param name="suite">The negotiated cipher suite.</param>
    /// <param name="writeSecret">This end's application traffic secret.</param>
    /// <param name="readSecret">The peer's application traffic secret.</param>
    /// <param name="isClient">Whether this end is the TLS client: only a client may receive NewSessionTicket.</param>
    public RecordLayer(IDuplexPipe transport, RecordCipherSuite suite, byte[] writeSecret, byte[] readSecret, bool isClient)
    {
        _transport = transport;
        _handshakeMessages = new PostHandshakeMessages(ticketsAllowed: isClient);
        Suite = suite;
        _writeKey = new TrafficKey(suite, writeSecret);
        _readKey = new TrafficKey(suite, readSecret);
    }

    public RecordCipherSuite Suite { get; }

    /// <summary>Gets or sets after how many records this end updates its sending key (RFC 8446 §5.5 limits AES-GCM to 2^24.5).</summary>
    public ulong RecordsPerKey { get; set; } = 1UL << 24;

    /// <summary>Gets whether the peer has ended its direction with close_notify.</summary>
    public bool PeerClosed { get; private set; }

    /// <summary>Gets whether this end has sent close_notify.</summary>
    public bool LocalClosed { get; private set; }

    /// <summary>Seals <paramref name="data"/> into records of at most 16 KiB and sends them (used for the ticket exchange).</summary>
    public async ValueTask WriteAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken)
    {
        EnsureOutputOpen();
        while (!data.IsEmpty)
        {
            ReadOnlySequence<byte> chunk = data.Slice(0, Math.Min(data.Length, MaxPlaintext));
            SealControlRecordsDue();
            Seal(ApplicationData, chunk);
            data = data.Slice(chunk.End);
        }

        await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reserves room in the transport's buffer for one record and returns the part the plaintext goes in; the
    /// caller writes at most <see cref="MaxPlaintext"/> bytes there and calls <see cref="SealReserved"/>.
    /// Control records that are due (a KeyUpdate) are sealed first, at this record boundary.
    /// </summary>
    public Memory<byte> ReserveRecord()
    {
        EnsureOutputOpen();
        SealControlRecordsDue();
        _reserved = _transport.Output.GetMemory(HeaderLength + MaxPlaintext + 1 + TrafficKey.TagLength);
        return _reserved[HeaderLength..(HeaderLength + MaxPlaintext)];
    }

    /// <summary>Seals the <paramref name="length"/> plaintext bytes written into the reserved record, in place.</summary>
    public void SealReserved(int length)
    {
        int innerLength = length + 1;
        Span<byte> record = _reserved.Span[..(HeaderLength + innerLength + TrafficKey.TagLength)];
        record[HeaderLength + length] = ApplicationData;
        SealInPlace(record, innerLength);
        _reserved = default;
    }

    /// <summary>Sends what has been sealed.</summary>
    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => _transport.Output.FlushAsync(cancellationToken);

    /// <summary>Makes a pending <see cref="FlushAsync"/> return at once.</summary>
    public void CancelPendingFlush() => _transport.Output.CancelPendingFlush();

    /// <summary>Asks the peer to update its sending key too (KeyUpdate with update_requested) at the next record boundary.</summary>
    public void RequestPeerKeyUpdate() => _peerUpdateWanted = true;

    /// <summary>Sends close_notify: this end's direction ends; the peer's direction keeps flowing.</summary>
    public async ValueTask CloseOutputAsync(CancellationToken cancellationToken)
    {
        if (LocalClosed)
        {
            return;
        }

        if (_failure is { } failure)
        {
            // Never a clean close after a failure: the peer must not take a cut stream for a complete one.
            await AbortOutputAsync(failure).ConfigureAwait(false);
            return;
        }

        SealControlRecordsDue();
        LocalClosed = true;
        Seal(Alert, new ReadOnlySequence<byte>([1, 0]));
        await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Sends close_notify if it can within a second (a channel closed before it carried anything: the peer sees a clean
    /// end, not a cut); a connection gone or stuck is left to be disposed.</summary>
    /// <param name="time">The clock of the second.</param>
    /// <returns>A task that completes when it was sent or given up.</returns>
    public async ValueTask TryCloseOutputAsync(TimeProvider time)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
            await CloseOutputAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or
            SecureChannelException)
        {
            // The connection is gone or stuck: its owner disposes it.
        }
    }

    /// <summary>Ends this end's direction without close_notify, so the peer sees a truncated stream.</summary>
    public async ValueTask AbortOutputAsync(Exception reason)
    {
        LocalClosed = true;
        await _transport.Output.CompleteAsync(reason).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads from the transport and opens every complete record: application data goes to
    /// <paramref name="applicationData"/> (not flushed). Returns <see langword="false"/> once the peer has sent
    /// close_notify; throws <see cref="SecureChannelException"/> when the stream is truncated, altered or broken.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ReceiveAsync(IBufferWriter<byte> applicationData, CancellationToken cancellationToken)
    {
        while (!PeerClosed)
        {
            ReadResult result = await _transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            int opened = 0;
            try
            {
                while (!PeerClosed && TryTakeRecord(ref buffer, out ReadOnlySequence<byte> record))
                {
                    Open(record, applicationData);
                    opened++;
                }
            }
            catch (SecureChannelException failure)
            {
                // A tampered or broken stream closes the whole channel: this end sends nothing more either.
                _failure = failure;
                throw;
            }
            finally
            {
                _transport.Input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (opened > 0)
            {
                return !PeerClosed;
            }

            if (result.IsCompleted)
            {
                _failure = new SecureChannelException(ChannelFailureReason.Truncated,
                    "The connection ended without a TLS close_notify, so the data may be cut short; it must not be treated as complete.");
                throw _failure;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _writeKey.Dispose();
        _readKey.Dispose();
        Array.Clear(_scratch);
    }

    private void EnsureOutputOpen()
    {
        if (_failure is { } failure)
        {
            throw new SecureChannelException(failure.Reason, $"The channel is closed because the peer's stream failed: {failure.Message}",
                failure);
        }

        if (LocalClosed)
        {
            throw new InvalidOperationException("The channel's output is closed (close_notify was sent).");
        }
    }

    /// <summary>
    /// Seals the KeyUpdate the peer asked for (RFC 8446 §4.6.3: before this end's next application data) or the
    /// one this end owes itself before its key reaches the AEAD usage limit. The new key applies after it.
    /// </summary>
    private void SealControlRecordsDue()
    {
        bool request = _peerUpdateWanted;
        if (request || _keyUpdateRequested || _writeKey.Sequence >= RecordsPerKey)
        {
            _keyUpdateRequested = false;
            _peerUpdateWanted = false;
            Seal(Handshake, new ReadOnlySequence<byte>([KeyUpdate, 0, 0, 1, request ? (byte)1 : (byte)0]));
            _writeKey.Update();
        }
    }

    private void Seal(byte contentType, ReadOnlySequence<byte> content)
    {
        int innerLength = (int)content.Length + 1;
        int recordLength = HeaderLength + innerLength + TrafficKey.TagLength;
        Span<byte> record = _transport.Output.GetSpan(recordLength)[..recordLength];
        content.CopyTo(record[HeaderLength..]);
        record[HeaderLength + innerLength - 1] = contentType;
        SealInPlace(record, innerLength);
    }

    private void SealInPlace(Span<byte> record, int innerLength)
    {
        record[0] = ApplicationData;
        record[1] = 3;
        record[2] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(record[3..], (ushort)(innerLength + TrafficKey.TagLength));
        _writeKey.Seal(record[..HeaderLength], record.Slice(HeaderLength, innerLength), record.Slice(HeaderLength + innerLength,
            TrafficKey.TagLength));
        _transport.Output.Advance(record.Length);
    }

    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> record)
    {
        record = default;
        if (!RecordFraming.TryReadHeader(buffer, out byte type, out int length))
        {
            return false;
        }

        if (type != ApplicationData)
        {
            throw RecordProtocol.Violation($"a record of outer type {type} arrived after the handshake, where only encrypted records " +
                $"(type 23) are allowed");
        }

        if (length is < TrafficKey.TagLength + 1 or > MaxCiphertext)
        {
            throw RecordProtocol.Violation($"a record declares {length} bytes of ciphertext; TLS 1.3 allows {TrafficKey.TagLength + 1} " +
                $"to {MaxCiphertext}");
        }

        return RecordFraming.TryTake(ref buffer, HeaderLength + length, out record);
    }

    private void Open(ReadOnlySequence<byte> record, IBufferWriter<byte> applicationData)
    {
        ReadOnlySpan<byte> bytes;
        if (record.IsSingleSegment)
        {
            bytes = record.FirstSpan;
        }
        else
        {
            record.CopyTo(_scratch);
            bytes = _scratch.AsSpan(0, (int)record.Length);
        }

        int innerLength = bytes.Length - HeaderLength - TrafficKey.TagLength;
        if (innerLength > MaxPlaintext + 1)
        {
            throw RecordProtocol.Violation($"a record holds {innerLength} bytes of inner plaintext; TLS 1.3 allows at most " +
                $"{MaxPlaintext + 1} (record_overflow)");
        }

        Span<byte> inner = applicationData.GetSpan(innerLength)[..innerLength];
        if (!_readKey.TryOpen(bytes[..HeaderLength], bytes.Slice(HeaderLength, innerLength), bytes[^TrafficKey.TagLength..], inner))
        {
            throw new SecureChannelException(ChannelFailureReason.RecordTampered,
                "A record failed authentication: its bytes were altered on the way. The channel was closed and nothing from that record " +
                    "was delivered.");
        }

        // TLSInnerPlaintext: content, the real content type, then zero padding.
        int typeAt = inner.LastIndexOfAnyExcept((byte)0);
        if (typeAt < 0)
        {
            throw RecordProtocol.Violation("a record holds only padding, with no content type");
        }

        ReadOnlySpan<byte> content = inner[..typeAt];
        if (inner[typeAt] != Handshake && _handshakeMessages.MessagePending)
        {
            throw RecordProtocol.Violation("a record of another type came between the fragments of a handshake message");
        }

        switch (inner[typeAt])
        {
            case ApplicationData:
                applicationData.Advance(typeAt);
                break;
            case Alert:
                OnAlert(content);
                break;
            case Handshake:
                OnHandshake(content);
                break;
            default:
                throw RecordProtocol.Violation($"a record of content type {inner[typeAt]} arrived after the handshake");
        }
    }

    private void OnAlert(ReadOnlySpan<byte> alert)
    {
        if (alert.Length != 2)
        {
            throw RecordProtocol.Violation($"an alert of {alert.Length} bytes arrived; alerts are 2 bytes");
        }

        switch (alert[1])
        {
            case 0:
                PeerClosed = true;
                return;
            case 90:
                return; // user_canceled is a warning; close_notify follows.
            default:
                throw new SecureChannelException(ChannelFailureReason.PeerAborted,
                    $"The peer aborted the channel with the alert '{Org.BouncyCastle.Tls.AlertDescription.GetText(alert[1])}'. Check the " +
                        $"peer's log for why.")
                {
                    PeerAlert = alert[1],
                };
        }
    }

    private void OnHandshake(ReadOnlySpan<byte> fragment)
    {
        if (_handshakeMessages.Take(fragment, out bool updateRequested))
        {
            _readKey.Update();
            _keyUpdateRequested |= updateRequested;
        }
    }
}
