using SecureMigration.Coordination.Hooks;

namespace SecureMigration.Tests.Coordination;

/// <summary>A library hook made of a lambda.</summary>
internal sealed class DelegateHook(string name, Func<MigrationHookContext, CancellationToken, Task<HookVerdict>> run) : IMigrationHook
{
    public string Name => name;

    public List<MigrationHookContext> Calls { get; } = [];

    public async ValueTask<HookVerdict> RunAsync(MigrationHookContext context, CancellationToken cancellationToken)
    {
        Calls.Add(context);
        return await run(context, cancellationToken);
    }
}
