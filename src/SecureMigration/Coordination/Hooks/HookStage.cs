namespace SecureMigration.Coordination.Hooks;

/// <summary>When a migration hook runs.</summary>
public enum HookStage
{
    /// <summary>Before anything moves; a veto stops the migration with nothing to undo but the admission.</summary>
    PreMigrate,

    /// <summary>After the VM was transferred and its digest verified, before the commit; a veto turns the migration into a
    /// rollback.</summary>
    PostMigrate,
}
