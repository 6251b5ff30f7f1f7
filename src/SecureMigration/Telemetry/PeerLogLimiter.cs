using SecureMigration.RateLimiting;

namespace SecureMigration.Telemetry;

/// <summary>
/// Decides whether a refusal of a peer is worth a log line: each peer may fill the log at a bounded rate (a token bucket
/// per peer name), and the peers tracked at once are bounded too, so a flood of refused peers, or of made-up names,
/// cannot fill a disk through the log. Refusals past the rate are still counted and audited by the caller.
/// </summary>
internal sealed class PeerLogLimiter(double linesPerMinute, int maxPeers, TimeProvider time)
{
    private readonly Dictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly TokenBucket _overflow = new(linesPerMinute, time);
    private readonly Lock _gate = new();

    /// <summary>Returns whether a line about <paramref name="peer"/> may be logged now, and counts it when it may.</summary>
    public bool ShouldLog(string peer)
    {
        lock (_gate)
        {
            if (!_buckets.TryGetValue(peer, out TokenBucket? bucket))
            {
                if (_buckets.Count >= maxPeers)
                {
                    // Too many peers at once: the ones not tracked share one bucket.
                    return _overflow.TryTake(out _);
                }

                bucket = new TokenBucket(linesPerMinute, time);
                _buckets.Add(peer, bucket);
            }

            return bucket.TryTake(out _);
        }
    }
}
