namespace SecureMigration.Channel.Limits;

/// <summary>
/// The places of authenticated channels waiting for their tickets, and then for the listener's accept queue (ADR 0030): a
/// peer that proved who it is gives its handshake slot back and holds one of these instead, until its channel is accepted or
/// closed. At most <see cref="SecureChannelListenerOptions.MaxWaitingChannelsPerPeer"/> per peer and
/// <see cref="SecureChannelListenerOptions.MaxWaitingChannels"/> in all: a new channel beyond them takes the place of the oldest
/// channel still waiting for its ticket of the same peer, or, when all places are held, of the peer that holds the most, which is
/// closed without its ticket being read (its source sends the ticket on a new connection). So a host of the cluster can keep
/// channels open ahead of its migrations without taking the slots that strangers' handshakes are limited by, and whoever holds
/// the most places loses them first. Only when no place can be taken back (every one's ticket came) is a channel refused.
/// </summary>
/// <param name="perPeer">The most places one peer may hold.</param>
/// <param name="total">The most places in all.</param>
internal sealed class WaitingChannels(int perPeer, int total)
{
    private readonly List<Place> _places = [];
    private readonly Lock _gate = new();

    /// <summary>Gets how many places are held.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _places.Count;
            }
        }
    }

    /// <summary>Takes a place for <paramref name="peer"/>, taking back another as the type's summary says, or returns
    /// <see langword="null"/> when none can be taken back.</summary>
    /// <param name="peer">Who holds it: the authenticated name, or the source prefix for a peer whose name is not proven.</param>
    /// <returns>The place; dispose it once the channel was accepted or closed.</returns>
    public Place? TryEnter(string peer)
    {
        Place place;
        Place? taken = null;
        lock (_gate)
        {
            bool peerFull = _places.Count(p => p.Holds(peer)) >= perPeer;
            if (peerFull || _places.Count >= total)
            {
                // Chosen and marked under the lock: a place whose ticket came meanwhile is not taken (the mark fails for it).
                string? from = peerFull ? peer : MostHeld();
                taken = from is null ? null : _places.FirstOrDefault(p => p.Holds(from) && p.TryMarkTakenBack());
                if (taken is null)
                {
                    return null;
                }

                _places.Remove(taken);
            }

            place = new Place(this, peer); // only once admitted: a refused channel leaves nothing behind
            _places.Add(place);
        }

        taken?.CancelIfTakenBack();
        return place;
    }

    /// <summary>The peer with the most places that can still be taken back (the first to have entered among equals).</summary>
    private string? MostHeld() => _places.Where(p => p.IsWaiting).GroupBy(p => p.Peer, StringComparer.OrdinalIgnoreCase)
        .OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();

    private void Exit(Place place)
    {
        lock (_gate)
        {
            _places.Remove(place);
        }
    }

    /// <summary>One channel's place.</summary>
    internal sealed class Place(WaitingChannels owner, string peer) : IDisposable
    {
        private const int Waiting = 0, TicketCame = 1, TakenBackState = 2, Left = 3;
        private readonly CancellationTokenSource _takenBack = new();
        private int _state;

        public string Peer => peer;

        /// <summary>Gets a token cancelled when the place was taken back while the channel still waited for its ticket.</summary>
        public CancellationToken TakenBack => _takenBack.Token;

        /// <summary>Gets whether the channel still waits for its ticket (its place can be taken back).</summary>
        public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

        public bool Holds(string name) => string.Equals(peer, name, StringComparison.OrdinalIgnoreCase);

        /// <summary>Marks that the channel's ticket came, after which the place is not taken back.</summary>
        /// <returns><see langword="false"/> when the place was taken back first.</returns>
        public bool TicketArrived() => Interlocked.CompareExchange(ref _state, TicketCame, Waiting) == Waiting;

        internal bool TryMarkTakenBack() => Interlocked.CompareExchange(ref _state, TakenBackState, Waiting) == Waiting;

        internal void CancelIfTakenBack()
        {
            lock (_takenBack)
            {
                if (Volatile.Read(ref _state) == TakenBackState)
                {
                    _takenBack.Cancel();
                }
            }
        }

        public void Dispose()
        {
            owner.Exit(this);
            lock (_takenBack)
            {
                if (Interlocked.Exchange(ref _state, Left) != Left)
                {
                    _takenBack.Dispose();
                }
            }
        }
    }
}
