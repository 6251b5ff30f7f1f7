using System.Net;
using SecureMigration.Channel;

namespace SecureMigration.Cli.Live;

/// <summary>
/// Channels an agent opens to a destination once a migration to it has completed, so that the next migration to the same
/// destination, when it comes while the channel is fresh, finds the TCP connection and the TLS 1.3 handshake done (ADR 0030):
/// an orchestrator draining a host sends its VMs one after another to few destinations. At most one per destination, and at most
/// <see cref="MaxDestinations"/> destinations; a channel is closed once it is stale (half the ticket wait timeout after its
/// opening began, while the destination still waits for its ticket) or when this host's credentials or peer policy were reloaded
/// since it opened (its peer was checked against the old ones), and is not opened again until another migration to its
/// destination completes, so an idle agent holds nothing and costs its peers nothing.
/// </summary>
/// <param name="factory">This host's channel factory.</param>
internal sealed class WarmChannels(SecureChannelFactory factory) : IAsyncDisposable
{
    /// <summary>The most destinations a channel is kept for at once.</summary>
    public const int MaxDestinations = 64;

    private readonly Dictionary<(string EndPoint, string Peer), Warm> _warm = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();

    /// <summary>Takes the channel kept for <paramref name="destination"/> (still opening, or open), or <see langword="null"/> when
    /// none is kept or it was opened under credentials or a peer policy since reloaded (it is closed then).</summary>
    /// <param name="destination">The destination agent's address.</param>
    /// <param name="peerName">The destination's identity.</param>
    /// <returns>The opening, for <see cref="EarlyChannel"/>; whoever takes it closes what it opened.</returns>
    public Task<OpenedChannel>? Take(EndPoint destination, string peerName)
    {
        Warm? taken;
        lock (_gate)
        {
            if (!_warm.Remove(Key(destination, peerName), out taken))
            {
                return null;
            }
        }

        taken.Expiry.Dispose();
        if (ReferenceEquals(taken.Generation, factory.Generation))
        {
            return taken.Opening;
        }

        _ = CloseAsync(taken.Opening);
        return null;
    }

    /// <summary>Opens a channel to <paramref name="destination"/> for the next migration there, unless one is kept already or
    /// <see cref="MaxDestinations"/> are.</summary>
    /// <param name="destination">The destination agent's address.</param>
    /// <param name="peerName">The destination's identity.</param>
    public void Open(EndPoint destination, string peerName)
    {
        lock (_gate)
        {
            (string, string) key = Key(destination, peerName);
            if (_stopping.IsCancellationRequested || _warm.ContainsKey(key) || _warm.Count >= MaxDestinations)
            {
                return;
            }

            Warm warm = null!;
            ITimer expiry = factory.TimeProvider.CreateTimer(_ => Expire(key, warm), null, Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
            warm = new Warm(factory.OpenAsync(destination, peerName, _stopping.Token), factory.Generation, expiry);
            _warm[key] = warm;
            expiry.Change(factory.TicketWaitTimeout / 2, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the openings under way and closes every channel kept.</summary>
    /// <returns>A task that completes when they are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Warm[] all;
        lock (_gate)
        {
            _stopping.Cancel();
            all = [.. _warm.Values];
            _warm.Clear();
        }

        foreach (Warm warm in all)
        {
            await warm.Expiry.DisposeAsync().ConfigureAwait(false);
            await CloseAsync(warm.Opening).ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private void Expire((string, string) key, Warm warm)
    {
        lock (_gate)
        {
            // Taken meanwhile (the migration owns it), or replaced: not this timer's to close.
            if (!_warm.TryGetValue(key, out Warm? kept) || !ReferenceEquals(kept, warm))
            {
                return;
            }

            _warm.Remove(key);
        }

        warm.Expiry.Dispose();
        _ = CloseAsync(warm.Opening);
    }

    /// <summary>Closes what an opening opened; its failure is no one's to see (no migration asked for it).</summary>
    private static async Task CloseAsync(Task<OpenedChannel> opening)
    {
        try
        {
            await (await opening.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HandshakeFailedException or DestinationUnreachableException or IOException or
            OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // nothing was opened, or it is closed
        }
    }

    private static (string, string) Key(EndPoint destination, string peerName) => (destination.ToString()!, peerName);

    private sealed record Warm(Task<OpenedChannel> Opening, object Generation, ITimer Expiry);
}
