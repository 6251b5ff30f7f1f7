using System.Net;
using SecureMigration.RateLimiting;

namespace SecureMigration.Channel.Limits;

/// <summary>
/// Decides which connections of a listener may run a handshake (ADR 0011): slots in total, with a share only known
/// sources may use; slots and a token-bucket rate per source prefix, or per known-source entry. Bounded: it tracks
/// at most <see cref="MaxTrackedPrefixes"/> prefixes; idle ones are forgotten when room is needed, and sources past
/// that share one group.
/// </summary>
internal sealed class HandshakeLimiter
{
    /// <summary>The most source prefixes tracked on their own at once.</summary>
    public const int MaxTrackedPrefixes = 4096;

    private const string OtherSources = "other sources";

    /// <summary>How often a full table may be searched for idle prefixes: a flood cannot make every connection pay for a search.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly int _maxTotal;
    private readonly int _maxPerPrefix;
    private readonly int _maxUnknown;
    private readonly double _perMinute;
    private readonly int _burst;
    private readonly TimeProvider _time;
    private readonly SourcePrefixes _prefixes;
    private readonly (IPNetwork Network, HandshakeSource Source)[] _known;
    private readonly Dictionary<IPNetwork, HandshakeSource> _tracked = [];
    private readonly HandshakeSource _other;
    private readonly Lock _gate = new();
    private int _total;
    private int _unknown;
    private long _sweptAt;

    /// <summary>Creates a limiter with validated <paramref name="options"/>.</summary>
    public HandshakeLimiter(SecureChannelListenerOptions options, TimeProvider time)
    {
        _maxTotal = options.MaxConcurrentHandshakes;
        _maxPerPrefix = options.MaxHandshakesPerPrefix;
        _maxUnknown = options.MaxConcurrentHandshakes - options.ReservedForKnownSources;
        _perMinute = options.HandshakesPerSecondPerPrefix * 60;
        _burst = options.HandshakeBurstPerPrefix;
        _time = time;
        _sweptAt = time.GetTimestamp();
        _prefixes = new SourcePrefixes(options.IPv4PrefixLength, options.IPv6PrefixLength);
        _known = [.. options.KnownSources.Select(SourcePrefixes.Normalize).Distinct()
            .Select(network => (network, NewSource(network.ToString(), isKnown: true)))];
        _other = NewSource(OtherSources, isKnown: false);
    }

    /// <summary>Gets the handshakes in progress.</summary>
    public int Active
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Gets the source prefixes tracked on their own (known-source entries not included).</summary>
    public int TrackedPrefixes
    {
        get
        {
            lock (_gate)
            {
                return _tracked.Count;
            }
        }
    }

    /// <summary>
    /// Takes a slot for a handshake from <paramref name="address"/>, or says why not. <paramref name="source"/> is the
    /// group the address counts in either way; pass it to <see cref="Exit"/> when the handshake ends.
    /// </summary>
    public bool TryEnter(IPAddress address, out HandshakeSource source, out HandshakeRefusal refusal)
    {
        lock (_gate)
        {
            source = SourceOf(address);
            if (_total >= _maxTotal || (!source.IsKnown && _unknown >= _maxUnknown))
            {
                refusal = HandshakeRefusal.SlotsFull;
                return false;
            }

            if (source.InProgress >= _maxPerPrefix)
            {
                refusal = HandshakeRefusal.PrefixSlotsFull;
                return false;
            }

            if (!source.Rate.TryTake(out _))
            {
                refusal = HandshakeRefusal.PrefixRate;
                return false;
            }

            source.InProgress++;
            _total++;
            _unknown += source.IsKnown ? 0 : 1;
            refusal = default;
            return true;
        }
    }

    /// <summary>Gives back the slot <see cref="TryEnter"/> took for <paramref name="source"/>.</summary>
    public void Exit(HandshakeSource source)
    {
        lock (_gate)
        {
            source.InProgress--;
            _total--;
            _unknown -= source.IsKnown ? 0 : 1;
        }
    }

    private HandshakeSource SourceOf(IPAddress address)
    {
        IPAddress normalized = SourcePrefixes.Normalize(address);
        foreach ((IPNetwork network, HandshakeSource known) in _known)
        {
            if (network.Contains(normalized))
            {
                return known;
            }
        }

        IPNetwork prefix = _prefixes.Of(normalized);
        if (_tracked.TryGetValue(prefix, out HandshakeSource? tracked))
        {
            return tracked;
        }

        if (_tracked.Count >= MaxTrackedPrefixes)
        {
            if (_time.GetElapsedTime(_sweptAt) < SweepInterval)
            {
                return _other;
            }

            // Forget the prefixes that hold nothing: no handshake in progress and a full bucket, as a new one would have.
            _sweptAt = _time.GetTimestamp();
            foreach ((IPNetwork idle, _) in _tracked.Where(pair => pair.Value.IsIdle).ToList())
            {
                _tracked.Remove(idle);
            }

            if (_tracked.Count >= MaxTrackedPrefixes)
            {
                return _other;
            }
        }

        tracked = NewSource(prefix.ToString(), isKnown: false);
        _tracked.Add(prefix, tracked);
        return tracked;
    }

    private HandshakeSource NewSource(string name, bool isKnown) => new(name, isKnown, new TokenBucket(_perMinute, _time, _burst));
}
