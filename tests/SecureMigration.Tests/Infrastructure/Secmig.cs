using System.Diagnostics;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>Runs the real secmig tool (built next to the tests) as a child process.</summary>
public static class Secmig
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "secmig.dll");

    /// <summary>Runs secmig to completion; returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"secmig {string.Join(' ', arguments)} did not end within 2 minutes. It printed:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Starts a long-running secmig command (a tunnel end).</summary>
    public static ExternalProcess Start(params string[] arguments) => ExternalProcess.Start("dotnet", [Dll, .. arguments]);
}
