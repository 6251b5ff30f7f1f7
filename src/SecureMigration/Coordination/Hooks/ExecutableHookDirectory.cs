namespace SecureMigration.Coordination.Hooks;

/// <summary>
/// The executable hooks of one stage of a hooks directory (<see cref="ExecutableHook.InDirectory"/>) as found at creation or at the
/// last <see cref="Reload"/>, so an operator can add, change or remove hooks without a restart. The coordinator runs each of them
/// as a hook of its own (its own timeout, its own name in a veto); a migration runs the set that was current when its stage began.
/// </summary>
public sealed class ExecutableHookDirectory : IMigrationHook
{
    private volatile IReadOnlyList<ExecutableHook> _hooks;

    /// <summary>Finds the hooks of <paramref name="stage"/> in <paramref name="directory"/>.</summary>
    /// <param name="directory">The hooks directory (with <c>pre-migrate</c> and <c>post-migrate</c> folders).</param>
    /// <param name="stage">The stage.</param>
    public ExecutableHookDirectory(string directory, HookStage stage)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = System.IO.Path.GetFullPath(directory);
        Stage = stage;
        _hooks = ExecutableHook.InDirectory(Directory, stage);
    }

    /// <summary>Gets the hooks directory.</summary>
    public string Directory { get; }

    /// <summary>Gets the stage whose hooks these are.</summary>
    public HookStage Stage { get; }

    /// <inheritdoc />
    public string Name => $"{Directory} ({Stage})";

    /// <summary>Gets the hooks that run now, in order.</summary>
    public IReadOnlyList<ExecutableHook> Hooks => _hooks;

    /// <summary>Finds the stage's hooks in the directory again; migrations whose stage began keep the set they run.</summary>
    /// <returns>The hooks that run from now on.</returns>
    public IReadOnlyList<ExecutableHook> Reload()
    {
        IReadOnlyList<ExecutableHook> hooks = ExecutableHook.InDirectory(Directory, Stage);
        _hooks = hooks;
        return hooks;
    }

    /// <summary>Runs the hooks in order, without a timeout of their own (the coordinator runs them one by one, each under its
    /// timeout); the first veto stops the rest.</summary>
    /// <param name="context">The migration's facts.</param>
    /// <param name="cancellationToken">Stops the hooks.</param>
    /// <returns>Allowed when every hook allowed; else the first veto, with its hook's name.</returns>
    public async ValueTask<HookVerdict> RunAsync(MigrationHookContext context, CancellationToken cancellationToken)
    {
        foreach (ExecutableHook hook in _hooks)
        {
            HookVerdict verdict = await hook.RunAsync(context, cancellationToken).ConfigureAwait(false);
            if (!verdict.Allowed)
            {
                return HookVerdict.Veto($"'{hook.Name}': {verdict.Reason ?? "no reason given"}");
            }
        }

        return HookVerdict.Allow;
    }
}
