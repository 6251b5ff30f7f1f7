using System.Buffers.Binary;

namespace SecureMigration.Channel.Records;

/// <summary>
/// Reassembles the handshake messages a peer may send after the handshake (RFC 8446 §4.6) from record fragments,
/// in linear time and constant memory: a message's 4-byte header is kept, a NewSessionTicket's body is skipped
/// as it streams by (session resumption is never used), and a KeyUpdate's one-byte body is kept. Each byte is
/// looked at once, however the peer fragments its messages, and no message may declare more than its type allows.
/// </summary>
internal sealed class PostHandshakeMessages
{
    /// <summary>The largest NewSessionTicket RFC 8446 §4.6.1 allows: lifetime, age_add, nonce, ticket and extensions.</summary>
    public const int MaxNewSessionTicket = 4 + 4 + (1 + 255) + (2 + ushort.MaxValue) + (2 + ushort.MaxValue);

    private const int HeaderLength = 4;
    private const byte NewSessionTicket = 4;
    private const byte KeyUpdate = 24;

    private readonly bool _ticketsAllowed;
    private readonly byte[] _header = new byte[HeaderLength];
    private int _headerFilled;
    private int _bodyRemaining;
    private byte _keyUpdateRequest;

    /// <param name="ticketsAllowed">Whether this end is a client: only a server may send NewSessionTicket.</param>
    public PostHandshakeMessages(bool ticketsAllowed) => _ticketsAllowed = ticketsAllowed;

    /// <summary>Gets whether a message has begun and not ended: no other record type may come between its fragments.</summary>
    public bool MessagePending => _headerFilled > 0;

    /// <summary>
    /// Takes the content of one handshake record. Returns whether a KeyUpdate ended it (the caller then updates its
    /// reading key); <paramref name="updateRequested"/> says whether the peer asked for this end's KeyUpdate too.
    /// </summary>
    public bool Take(ReadOnlySpan<byte> fragment, out bool updateRequested)
    {
        updateRequested = false;
        if (fragment.IsEmpty)
        {
            throw RecordProtocol.Violation("an empty handshake record arrived (RFC 8446 §5.1 forbids zero-length handshake fragments)");
        }

        bool keyUpdated = false;
        while (!fragment.IsEmpty)
        {
            if (keyUpdated)
            {
                throw RecordProtocol.Violation("a KeyUpdate was not the last message of its record");
            }

            if (_headerFilled < HeaderLength)
            {
                int take = Math.Min(HeaderLength - _headerFilled, fragment.Length);
                fragment[..take].CopyTo(_header.AsSpan(_headerFilled));
                _headerFilled += take;
                fragment = fragment[take..];
                if (_headerFilled < HeaderLength)
                {
                    break;
                }

                _bodyRemaining = CheckHeader();
            }

            int body = Math.Min(_bodyRemaining, fragment.Length);
            if (body > 0 && _header[0] == KeyUpdate)
            {
                _keyUpdateRequest = fragment[0];
            }

            fragment = fragment[body..];
            _bodyRemaining -= body;
            if (_bodyRemaining == 0)
            {
                _headerFilled = 0;
                if (_header[0] == KeyUpdate)
                {
                    if (_keyUpdateRequest > 1)
                    {
                        throw RecordProtocol.Violation($"a KeyUpdate carries the request value {_keyUpdateRequest}; only 0 and 1 exist");
                    }

                    keyUpdated = true;
                    updateRequested = _keyUpdateRequest == 1;
                }
            }
        }

        return keyUpdated;
    }

    private int CheckHeader()
    {
        int length = (int)(BinaryPrimitives.ReadUInt32BigEndian(_header) & 0xFFFFFF);
        switch (_header[0])
        {
            case NewSessionTicket when !_ticketsAllowed:
                throw RecordProtocol.Violation("the client sent a NewSessionTicket; only a server may send one");
            case NewSessionTicket when length > MaxNewSessionTicket:
                throw RecordProtocol.Violation($"a NewSessionTicket declares {length} bytes; TLS 1.3 allows at most {MaxNewSessionTicket}");
            case NewSessionTicket:
                return length;
            case KeyUpdate when length != 1:
                throw RecordProtocol.Violation($"a KeyUpdate declares {length} bytes; it has exactly 1");
            case KeyUpdate:
                return length;
            default:
                throw RecordProtocol.Violation($"the post-handshake message type {_header[0]} is not allowed");
        }
    }
}
