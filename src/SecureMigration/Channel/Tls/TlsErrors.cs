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
                "The peer did not complete the handshake within the handshake timeout. Check that the peer runs SecureMigration with matching credentials and that the network is not stalling.", error);
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
                "The connection closed before the handshake completed. The peer may have refused this end, or is not a SecureMigration endpoint; check its log.", error);
        }

        if (error is IOException)
        {
            return new HandshakeFailedException(HandshakeFailureReason.Truncated,
                $"The connection failed during the handshake: {error.Message}", error);
        }

        return new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
            $"The handshake failed: {error.Message}", error);
    }

    public static SecureChannelException ToChannelFailure(Exception error)
    {
        if (FindInChain<SecureChannelException>(error) is { } typed)
        {
            return typed;
        }

        if (FindInChain<TlsFatalAlertReceived>(error) is { } received)
        {
            return new SecureChannelException(ChannelFailureReason.PeerAborted,
                $"The peer aborted the channel with the alert '{AlertDescription.GetText(received.AlertDescription)}'.", error);
        }

        if (FindInChain<TlsFatalAlert>(error) is { } raised && raised.AlertDescription == AlertDescription.bad_record_mac)
        {
            return new SecureChannelException(ChannelFailureReason.RecordTampered,
                "A record failed authentication: its bytes were altered on the way. The channel was closed and nothing from that record was delivered.", error);
        }

        if (FindInChain<TlsFatalAlert>(error) is { } other)
        {
            return new SecureChannelException(ChannelFailureReason.ProtocolViolation,
                $"The peer broke the TLS protocol ({AlertDescription.GetText(other.AlertDescription)}); the channel was closed.", error);
        }

        // TLS exceptions are IOExceptions too, so the transport's own failures are checked last.
        if (FindInChain<TlsNoCloseNotifyException>(error) is not null || FindInChain<EndOfStreamException>(error) is not null || error is IOException)
        {
            return new SecureChannelException(ChannelFailureReason.Truncated,
                "The connection ended without a TLS close_notify, so the data may be cut short; it must not be treated as complete.", error);
        }

        return new SecureChannelException(ChannelFailureReason.ProtocolViolation, $"The channel failed: {error.Message}", error);
    }

    private static HandshakeFailedException FromPeerAlert(TlsFatalAlertReceived received, bool isPsk)
    {
        short alert = received.AlertDescription;
        string text = AlertDescription.GetText(alert);
        if (alert == AlertDescription.protocol_version)
        {
            return new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
                $"The peer does not speak TLS 1.3 (alert '{text}'); SecureMigration never falls back to an older version. Upgrade the peer.", received);
        }

        if (isPsk && (alert == AlertDescription.decrypt_error || alert == AlertDescription.handshake_failure || alert == AlertDescription.illegal_parameter))
        {
            return new HandshakeFailedException(HandshakeFailureReason.PskMismatch,
                $"The peer refused this end's pre-shared key (alert '{text}'). Give both ends the same --psk-file and --psk-identity.", received);
        }

        return new HandshakeFailedException(HandshakeFailureReason.RefusedByPeer,
            $"The peer refused this end (alert '{text}'). Check the peer's log: it may not trust this end's CA, expect another name, or not allow this host.", received);
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
                "The peer's pre-shared key does not match this end's (the PSK binder failed). Give both ends the same --psk-file and --psk-identity.", raised);
        }

        if (alert == AlertDescription.handshake_failure || alert == AlertDescription.insufficient_security)
        {
            return new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
                "The peer offered no TLS 1.3 cipher suite or key exchange this end accepts (AES-GCM or ChaCha20-Poly1305 with (EC)DHE).", raised);
        }

        return new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
            $"The peer sent bytes that break the TLS 1.3 protocol ({AlertDescription.GetText(alert)}). It is not a SecureMigration endpoint or the stream was altered.", raised);
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
