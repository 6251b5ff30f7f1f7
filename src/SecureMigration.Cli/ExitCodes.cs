namespace SecureMigration.Cli;

/// <summary>The exit codes of <c>secmig</c> (documented in docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran but failed (a demo defense did not hold, an I/O error).</summary>
    public const int Failure = 1;

    /// <summary>The command line or a credential file is invalid; nothing was done.</summary>
    public const int InvalidInput = 2;

    /// <summary>The peer could not be authenticated, or refused this host.</summary>
    public const int Refused = 3;

    /// <summary>A migration's commit was requested and the ownership registry cannot be reached: the VM stays paused until recovery can ask it.</summary>
    public const int InDoubt = 4;
}
