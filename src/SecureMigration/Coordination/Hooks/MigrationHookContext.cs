using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination.Hooks;

/// <summary>The facts of a migration that a hook sees.</summary>
/// <param name="MigrationId">The migration.</param>
/// <param name="VmId">The VM.</param>
/// <param name="Role">The role of the host running the hook.</param>
/// <param name="Stage">When the hook runs.</param>
/// <param name="SourceHost">The host the VM leaves.</param>
/// <param name="DestinationHost">The host it moves to.</param>
/// <param name="Epoch">The ownership epoch the source held when the migration started.</param>
public sealed record MigrationHookContext(Guid MigrationId, string VmId, MigrationRole Role, HookStage Stage, string SourceHost,
    string DestinationHost, long Epoch);
