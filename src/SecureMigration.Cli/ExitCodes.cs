namespace SecureMigration.Cli;

/// <summary>
/// The exit codes of <c>secmig</c>: the one table that <c>secmig --help</c> prints and README.md and docs/cli.md repeat
/// (a test holds them to it).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran but failed (a demo defense did not hold, an I/O error).</summary>
    public const int Failure = 1;

    /// <summary>The command line or a credential file is invalid, or what it names is missing or busy; nothing was done.</summary>
    public const int InvalidInput = 2;

    /// <summary>The peer could not be authenticated, or refused this host.</summary>
    public const int Refused = 3;

    /// <summary>A migration's commit was requested and the ownership registry cannot be reached: the VM stays paused until recovery can ask
    /// it.</summary>
    public const int InDoubt = 4;

    /// <summary>
    /// Ctrl-C or SIGTERM stopped the command before it finished (a migrate rolled back, a wipe left incomplete), or it did
    /// not stop within 10 seconds (System.CommandLine's process termination timeout). The agent and the tunnel, whose
    /// work is to serve until stopped, exit 0 when they stop cleanly.
    /// </summary>
    public const int Interrupted = 130;

    /// <summary>Each code with its meaning in a few words, as <c>secmig --help</c> prints them.</summary>
    public static IReadOnlyList<(int Code, string Meaning)> Table { get; } =
    [
        (Success, "success"),
        (Failure, "the command ran but failed (a migration rolled back or stayed in doubt in recovery, a wipe failed verification)"),
        (InvalidInput, "invalid input: a bad option, a missing, unfit or busy file, directory or port; nothing was done"),
        (Refused, "refused: the peer, or by the peer, or before anything moved; not retried, so the corrected command runs at once"),
        (InDoubt, "migrate: the commit was requested and the ownership registry cannot be reached; the VM stays paused until recovery"),
        (Interrupted, "interrupted by Ctrl-C or SIGTERM before it finished (a migrate rolled back, a wipe left incomplete)"),
    ];

    /// <summary>The table as the root command's help shows it.</summary>
    public static string Help => "Exit codes:\n" + string.Join('\n', Table.Select(row => $"  {row.Code,-4} {row.Meaning}"));
}
