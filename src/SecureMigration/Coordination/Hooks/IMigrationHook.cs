namespace SecureMigration.Coordination.Hooks;

/// <summary>
/// A pre- or post-migration hook, in the manner of XAPI's: it checks or prepares something on this host and may veto.
/// It runs under <see cref="CoordinatorOptions.HookTimeout"/>; a hook that throws or overruns counts as a veto.
/// </summary>
public interface IMigrationHook
{
    /// <summary>Gets the hook's name, for the journal and logs.</summary>
    string Name { get; }

    /// <summary>Runs the hook.</summary>
    /// <param name="context">The migration's facts.</param>
    /// <param name="cancellationToken">Cancelled when the hook's time is up.</param>
    /// <returns>Whether the migration may go on.</returns>
    ValueTask<HookVerdict> RunAsync(MigrationHookContext context, CancellationToken cancellationToken);
}
