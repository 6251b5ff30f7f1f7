namespace SecureMigration.Channel.Tls;

/// <summary>What <see cref="TlsEngine"/> needs of a half-closing protocol.</summary>
internal interface IHalfCloseProtocol
{
    HalfClose HalfClose { get; }

    /// <summary>Sends close_notify without closing the receiving direction.</summary>
    void CloseOutput();
}
