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

    /// <summary>Runs secmig to completion on a host of a <see cref="HostNetwork"/> (in its namespace), or here when
    /// <paramref name="host"/> is <see langword="null"/>.</summary>
    public static Task<(int ExitCode, string Output)> RunOnAsync(string? host, params string[] arguments) => host is null
        ? RunAsync(arguments)
        : ProcessRunner.RunAsync("ip", ["netns", "exec", host, ExternalProgram.Require("dotnet"), Dll, .. arguments],
            TimeSpan.FromMinutes(2));

    /// <summary>Starts a long-running secmig command on a host of a <see cref="HostNetwork"/>, or here.</summary>
    public static ExternalProcess StartOn(string? host, params string[] arguments) => host is null
        ? Start(arguments)
        : ExternalProcess.Start("ip", ["netns", "exec", host, ExternalProgram.Require("dotnet"), Dll, .. arguments]);
}
