namespace SecureMigration.Tests.Infrastructure;

/// <summary>Runs the real secmig tool (built next to the tests) as a child process.</summary>
public static class Secmig
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "secmig.dll");

    /// <summary>Runs secmig to completion; returns its exit code and everything it printed.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", [Dll, .. arguments], TimeSpan.FromMinutes(2));

    /// <summary>Starts a long-running secmig command (a tunnel end).</summary>
    public static ExternalProcess Start(params string[] arguments) => ExternalProcess.Start("dotnet", [Dll, .. arguments]);
}
