namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// Finds the secmig tool the benchmarks run: <c>SECMIG_BINARY</c> when set (for example a ReadyToRun publish:
/// <c>dotnet publish src/SecureMigration.Cli -c Release -r linux-x64 -p:PublishReadyToRun=true -o DIR</c>, then
/// <c>SECMIG_BINARY=DIR/secmig.dll</c>), otherwise the Release build in this repository.
/// </summary>
internal static class SecmigBinary
{
    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable("SECMIG_BINARY") is { Length: > 0 } chosen)
        {
            return File.Exists(chosen) ? Path.GetFullPath(chosen) : throw new FileNotFoundException($"SECMIG_BINARY names '{chosen}', " +
                $"which does not exist.");
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SecureMigration.sln")))
            {
                string dll = Path.Combine(directory.FullName, "src", "SecureMigration.Cli", "bin", "Release", "net10.0", "secmig.dll");
                return File.Exists(dll) ? dll : null;
            }
        }

        return null;
    }
}
