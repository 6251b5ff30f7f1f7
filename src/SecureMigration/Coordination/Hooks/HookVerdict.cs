namespace SecureMigration.Coordination.Hooks;

/// <summary>What a hook decided.</summary>
/// <param name="Allowed">Whether the migration may go on.</param>
/// <param name="Reason">Why it may not, for the journal and the operator.</param>
public readonly record struct HookVerdict(bool Allowed, string? Reason)
{
    /// <summary>Gets the verdict that lets the migration go on.</summary>
    public static HookVerdict Allow => new(true, null);

    /// <summary>Creates a veto.</summary>
    /// <param name="reason">Why the migration may not go on.</param>
    /// <returns>The veto.</returns>
    public static HookVerdict Veto(string reason) => new(false, reason);
}
