using SecureMigration.Qemu;

namespace SecureMigration.Cli.Live;

/// <summary>How one 'secmig migrate' ended, as <c>--json</c> prints it and the agent's control API returns it.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="MigrationId">The last attempt's migration.</param>
/// <param name="Status">Completed, RolledBack, Refused, InDoubt, ...</param>
/// <param name="Reason">Why it did not complete, or <see langword="null"/>.</param>
/// <param name="Bytes">The bytes of the migration stream that moved.</param>
/// <param name="Retries">How many times it was tried again.</param>
/// <param name="ExitCode">The exit code 'secmig migrate' ends with.</param>
/// <param name="Qemu">QEMU's account of its outgoing migration, when there was one.</param>
internal sealed record MigrateOutcome(string VmId, Guid MigrationId, string Status, string? Reason, long Bytes, int Retries,
    int ExitCode, QemuMigrationInfo? Qemu);
