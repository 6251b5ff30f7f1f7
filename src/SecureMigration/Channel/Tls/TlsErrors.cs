using Org.BouncyCastle.Tls;

namespace SecureMigration.Channel.Tls;

/// <summary>Turns what BouncyCastle and the transport throw into the library's typed errors.</summary>
internal static class TlsErrors
{
    public static HandshakeFailedException ToHandshakeFailure(Exception error, HandshakeState state, bool isPsk, bool timedOut)
    {
        if (state.Failure is { } own)
        {
            return own;
        }

        if (FindInChain<HandshakeFailedException>(error) is { } typed)
        {
            return typed;
        }

        if (timedOut)
        {
            return new HandshakeFailedException(HandshakeFailureReason.Timeout,
                "The peer did not complete the handshake within the handshake timeout. Check that the peer runs SecureMigration with " +
                    "matching credentials and that the network is not stalling.", error);
        }

        if (FindInChain<SecureChannelException>(error) is { } channel)
        {
            // The handshake completed here, but the peer refused during the ticket exchange or broke the records.
            return channel.Reason switch
            {
                ChannelFailureReason.PeerAborted => new HandshakeFailedException(HandshakeFailureReason.RefusedByPeer,
                    $"The peer refused this end right after the handshake: {channel.Message} It may not trust this end's CA, expect " +
                        $"another name, or not allow this host.", error)
                {
                    PeerAlert = channel.PeerAlert,
                },
                ChannelFailureReason.Truncated => new HandshakeFailedException(HandshakeFailureReason.Truncated,
                    "The connection closed during the ticket exchange. The peer may have refused this end; check its log.", error),
                _ => new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation, channel.Message, error),
            };
        }

        if (FindInChain<TlsFatalAlertReceived>(error) is { } received)
        {
            return FromPeerAlert(received, isPsk);
        }

        if (FindInChain<TlsFatalAlert>(error) is { } raised)
        {
            return FromLocalAlert(raised, isPsk);
        }

        if (FindInChain<TlsNoCloseNotifyException>(error) is not null || FindInChain<EndOfStreamException>(error) is not null)
        {
            return new HandshakeFailedException(HandshakeFailureReason.Truncated,
                "The connection closed before the handshake completed. The peer may have refused this end, or is not a SecureMigration " +
                    "endpoint; check its log.", error);
        }

        if (error is IOException)
        {
            return new HandshakeFailedException(HandshakeFailureReason.Truncated,
                $"The connection failed during the handshake: {error.Message}", error);
        }

        return new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
            $"The handshake failed: {error.Message}", error);
    }

    private static HandshakeFailedException FromPeerAlert(TlsFatalAlertReceived received, bool isPsk)
    {
        short alert = received.AlertDescription;
        string text = AlertDescription.GetText(alert);
        if (alert == AlertDescription.protocol_version)
        {
            return new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
                $"The peer does not speak TLS 1.3 (alert '{text}'); SecureMigration never falls back to an older version. Upgrade the " +
                    $"peer.", received);
        }

        if (isPsk && (alert == AlertDescription.decrypt_error || alert == AlertDescription.handshake_failure ||
            alert == AlertDescription.illegal_parameter))
        {
            return new HandshakeFailedException(HandshakeFailureReason.PskMismatch,
                $"The peer refused this end's pre-shared key (alert '{text}'). Give both ends the same --psk-file and --psk-identity.",
                    received);
        }

        return new HandshakeFailedException(HandshakeFailureReason.RefusedByPeer,
            $"The peer refused this end (alert '{text}'). Check the peer's log: it may not trust this end's CA, expect another name, or " +
                $"not allow this host.", received)
        {
            PeerAlert = alert,
        };
    }

    private static HandshakeFailedException FromLocalAlert(TlsFatalAlert raised, bool isPsk)
    {
        short alert = raised.AlertDescription;
        if (alert == AlertDescription.protocol_version || alert == AlertDescription.inappropriate_fallback)
        {
            return new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
                "The peer offered only a TLS version older than 1.3; SecureMigration never falls back. Upgrade the peer.", raised);
        }

        if (isPsk && (alert == AlertDescription.decrypt_error || alert == AlertDescription.handshake_failure))
        {
            return new HandshakeFailedException(HandshakeFailureReason.PskMismatch,
                "The peer's pre-shared key does not match this end's (the PSK binder failed). Give both ends the same --psk-file and " +
                    "--psk-identity.", raised);
        }

        if (alert == AlertDescription.handshake_failure || alert == AlertDescription.insufficient_security)
        {
            return new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
                "The peer offered no TLS 1.3 cipher suite or key exchange this end accepts (AES-GCM or ChaCha20-Poly1305 with (EC)DHE).",
                    raised);
        }

        return new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
            $"The peer sent bytes that break the TLS 1.3 protocol ({AlertDescription.GetText(alert)}). It is not a SecureMigration " +
                $"endpoint or the stream was altered.", raised);
    }

    private static T? FindInChain<T>(Exception? error)
        where T : Exception
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                return match;
            }
        }

        return null;
    }
}
