namespace SecureMigration.Benchmarks.Throughput;

/// <summary>Finds the Release build of the secmig tool in this repository.</summary>
internal static class SecmigBinary
{
    public static string? Find()
    {
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
