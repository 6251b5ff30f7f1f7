using SecureMigration.Coordination.Residues;

namespace SecureMigration.Testing.Residues;

/// <summary>
/// Deletes residue (a file, or a directory with its files) without overwriting it: a test double for the
/// sanitizing default. Deleting leaves the blocks readable on the medium, and the audit log says "deleted", not "sanitized".
/// </summary>
public sealed class DeletingResidueHandler : IResidueHandler
{
    /// <inheritdoc />
    public ValueTask<ResidueOutcome> HandleAsync(Residue residue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(residue);
        if (File.Exists(residue.Path))
        {
            long bytes = new FileInfo(residue.Path).Length;
            File.Delete(residue.Path);
            return ValueTask.FromResult(new ResidueOutcome("deleted", bytes));
        }

        if (Directory.Exists(residue.Path))
        {
            long bytes = new DirectoryInfo(residue.Path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            Directory.Delete(residue.Path, recursive: true);
            return ValueTask.FromResult(new ResidueOutcome("deleted", bytes));
        }

        return ValueTask.FromResult(new ResidueOutcome("already-gone", 0));
    }
}
