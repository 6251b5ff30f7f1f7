using Org.BouncyCastle.Tls;

namespace SecureMigration.Channel.Tls;

/// <summary>A TLS client protocol whose close_notify handling is <see cref="HalfClose"/>.</summary>
internal sealed class HalfCloseTlsClientProtocol : TlsClientProtocol, IHalfCloseProtocol
{
    public HalfClose HalfClose { get; } = new();

    public void CloseOutput()
    {
        RaiseAlertWarning(AlertDescription.close_notify, "Output closed");
        HalfClose.MarkLocalClosed();
    }

    protected override void HandleAlertWarningMessage(short alertDescription)
    {
        if (!HalfClose.TryHandle(alertDescription, IsHandshaking, ApplicationDataAvailable))
        {
            base.HandleAlertWarningMessage(alertDescription);
        }
    }
}
