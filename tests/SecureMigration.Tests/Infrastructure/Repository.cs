namespace SecureMigration.Tests.Infrastructure;

/// <summary>The repository the tests were built from, for tests that read its docs or pack its projects.</summary>
public static class Repository
{
    /// <summary>Gets the directory that holds SecureMigration.sln.</summary>
    public static string Root
    {
        get
        {
            for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "SecureMigration.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("The tests run outside the repository; this test needs its sources.");
        }
    }
}
