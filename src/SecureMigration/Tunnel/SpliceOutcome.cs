namespace SecureMigration.Tunnel;

/// <summary>How a tunnelled connection ended.</summary>
public enum SpliceOutcome
{
    /// <summary>Both directions closed cleanly.</summary>
    Closed,

    /// <summary>One side reset or failed; the other side was reset too.</summary>
    Reset,

    /// <summary>No byte moved for the idle timeout; both sides were reset.</summary>
    IdleTimeout,
}
