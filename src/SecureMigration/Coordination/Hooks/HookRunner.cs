using SecureMigration.Text;

namespace SecureMigration.Coordination.Hooks;

/// <summary>Runs a stage's hooks in order under a timeout each; the first veto, exception or overrun stops the rest. A hooks directory
/// stands for the hooks it holds at the stage's start, each run as a hook of its own.</summary>
internal sealed class HookRunner(IReadOnlyList<IMigrationHook> hooks, TimeSpan timeout, TimeProvider time)
{
    /// <summary>Gets whether the stage has no hook at all (no hook and no hooks directory), so running it does nothing.</summary>
    public bool IsEmpty => hooks.Count == 0;

    /// <summary>Returns <see langword="null"/> when every hook allowed the migration, else why not.</summary>
    public async ValueTask<string?> RunAsync(MigrationHookContext context, CancellationToken cancellationToken)
    {
        foreach (IMigrationHook hook in hooks.SelectMany(Expand))
        {
            using var deadline = new CancellationTokenSource(timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            HookVerdict verdict;
            try
            {
                verdict = await hook.RunAsync(context, linked.Token).AsTask().WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return $"{context.Stage} hook '{hook.Name}' did not answer within {timeout.TotalSeconds:0.###} s";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return $"{context.Stage} hook '{UntrustedText.Bound(hook.Name, 128)}' failed: {UntrustedText.Bound(e.Message)}";
            }

            if (!verdict.Allowed)
            {
                return $"{context.Stage} hook '{UntrustedText.Bound(hook.Name, 128)}' vetoed: " +
                    $"{(verdict.Reason is null ? "no reason given" : UntrustedText.Bound(verdict.Reason))}";
            }
        }

        return null;
    }

    private static IEnumerable<IMigrationHook> Expand(IMigrationHook hook) => hook is ExecutableHookDirectory directory ? directory.Hooks : [hook];
}
