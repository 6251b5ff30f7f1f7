namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// Finds the secmig tool the benchmarks run: <c>SECMIG_BINARY</c> when set (for example a ReadyToRun publish:
/// <c>dotnet publish src/SecureMigration.Cli -c Release -r linux-x64 -p:PublishReadyToRun=true -o DIR</c>, then
/// <c>SECMIG_BINARY=DIR/secmig.dll</c>, or the <c>secmig</c> command of a tool installed with
/// <c>dotnet tool install --tool-path DIR</c>: <c>SECMIG_BINARY=DIR/secmig</c>), otherwise the Release build in this repository.
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

    /// <summary>The program and arguments that run <paramref name="secmig"/> (a .dll through <c>dotnet</c>, an installed tool's command
    /// as it is).</summary>
    public static (string Program, List<string> Arguments) Command(string secmig, IEnumerable<string> arguments) =>
        secmig.EndsWith(".dll", StringComparison.Ordinal) ? ("dotnet", [secmig, .. arguments]) : (secmig, [.. arguments]);
}
