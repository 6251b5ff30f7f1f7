using Org.BouncyCastle.Tls;

namespace SecureMigration.Channel.Tls;

/// <summary>
/// TLS 1.3 half-close (RFC 8446 §6.1): each side's close_notify ends only its own direction. BouncyCastle
/// closes both directions when close_notify arrives; the protocol subclasses below route the alert here instead,
/// so a hypervisor's FIN can pass through while the return stream keeps flowing.
/// </summary>
internal sealed class HalfClose
{
    /// <summary>Gets whether the peer has sent close_notify: its direction has ended cleanly.</summary>
    public bool PeerClosed { get; private set; }

    /// <summary>Gets whether this end has sent close_notify.</summary>
    public bool LocalClosed { get; private set; }

    /// <summary>
    /// Gets how many decrypted bytes that arrived before the peer's close_notify are still unread; bytes a peer
    /// sends after its close_notify are never delivered.
    /// </summary>
    public int UnreadBeforeClose { get; private set; }

    /// <summary>Handles a warning alert; returns <see langword="false"/> when the protocol's default handling applies.</summary>
    /// <param name="alertDescription">The alert.</param>
    /// <param name="isHandshaking">Whether the handshake is still running (a close then is a failure).</param>
    /// <param name="applicationDataAvailable">The decrypted bytes waiting when the alert arrived.</param>
    public bool TryHandle(short alertDescription, bool isHandshaking, int applicationDataAvailable)
    {
        if (alertDescription != AlertDescription.close_notify || isHandshaking)
        {
            return false;
        }

        if (!PeerClosed)
        {
            PeerClosed = true;
            UnreadBeforeClose = applicationDataAvailable;
        }

        return true;
    }

    /// <summary>Limits a read to the bytes that arrived before the peer's close_notify.</summary>
    public int Limit(int available) => PeerClosed ? Math.Min(available, UnreadBeforeClose) : available;

    public void Consumed(int count)
    {
        if (PeerClosed)
        {
            UnreadBeforeClose -= count;
        }
    }

    public void MarkLocalClosed() => LocalClosed = true;
}
