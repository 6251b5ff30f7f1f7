namespace SecureMigration.Channel.Limits;

/// <summary>
/// The places of authenticated channels waiting for their tickets (ADR 0030): a peer that proved who it is gives its handshake
/// slot back and holds one of these instead, at most <see cref="SecureChannelListenerOptions.MaxWaitingChannelsPerPeer"/> per peer
/// and <see cref="SecureChannelListenerOptions.MaxWaitingChannels"/> in all, so a host of the cluster can keep channels open ahead
/// of its migrations without taking the slots that strangers' handshakes are limited by, and cannot hold more than its share.
/// </summary>
/// <param name="perPeer">The most places one peer may hold.</param>
/// <param name="total">The most places in all.</param>
internal sealed class WaitingChannels(int perPeer, int total)
{
    private readonly Dictionary<string, int> _held = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private int _total;

    /// <summary>Gets how many places are held.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Takes a place for <paramref name="peer"/>, or returns <see langword="null"/> when it or everyone holds the most.</summary>
    /// <param name="peer">Who holds it: the authenticated name, or the address for a peer whose name is not proven.</param>
    /// <returns>The place; dispose it once the ticket came or the channel ended.</returns>
    public IDisposable? TryEnter(string peer)
    {
        lock (_gate)
        {
            int held = _held.GetValueOrDefault(peer);
            if (held >= perPeer || _total >= total)
            {
                return null;
            }

            _held[peer] = held + 1;
            _total++;
        }

        return new Place(this, peer);
    }

    private void Exit(string peer)
    {
        lock (_gate)
        {
            _total--;
            if (_held[peer] == 1)
            {
                _held.Remove(peer);
            }
            else
            {
                _held[peer]--;
            }
        }
    }

    private sealed class Place(WaitingChannels owner, string peer) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                owner.Exit(peer);
            }
        }
    }
}
