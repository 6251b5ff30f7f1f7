namespace SecureMigration.Channel.Tickets;

/// <summary>
/// Remembers the nonces of accepted tickets until they expire, with a bounded size. When full, the entry
/// that expires first is dropped; tickets are short-lived, so that entry is near its end anyway.
/// </summary>
internal sealed class TicketReplayCache(int capacity)
{
    private readonly Dictionary<UInt128, DateTimeOffset> _seen = [];
    private readonly PriorityQueue<UInt128, DateTimeOffset> _byExpiry = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Records the nonce; <see langword="false"/> when it was seen before and has not expired.</summary>
    public bool TryAdd(UInt128 nonce, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_byExpiry.TryPeek(out UInt128 oldest, out DateTimeOffset expiry) && (expiry <= now || _seen.Count >= capacity))
            {
                _byExpiry.Dequeue();
                _seen.Remove(oldest);
            }

            if (!_seen.TryAdd(nonce, expiresAt))
            {
                return false;
            }

            _byExpiry.Enqueue(nonce, expiresAt);
            return true;
        }
    }
}
