using System.Diagnostics;
using System.Globalization;
using SecureMigration.Coordination.Phases;
using SecureMigration.Text;
using SecureMigration.Threading;

namespace SecureMigration.Coordination.Hooks;

/// <summary>
/// A hook that runs an executable with the migration's facts in environment variables (<c>SECMIG_MIGRATION_ID</c>,
/// <c>SECMIG_VM_ID</c>, <c>SECMIG_ROLE</c>, <c>SECMIG_STAGE</c>, <c>SECMIG_SOURCE_HOST</c>, <c>SECMIG_DESTINATION_HOST</c>,
/// <c>SECMIG_EPOCH</c>). Exit code 0 allows the migration; any other vetoes it, with the last line the program wrote
/// to standard error as the reason. A program that overruns its time is killed with its children.
/// </summary>
public sealed class ExecutableHook : IMigrationHook
{
    /// <summary>How much of the end of a hook's standard error is kept to find its reason.</summary>
    private const int MaxErrorTail = 8 * 1024;

    /// <summary>Creates a hook for <paramref name="path"/>.</summary>
    /// <param name="path">The executable.</param>
    public ExecutableHook(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Gets the executable's full path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>
    /// Finds the hooks of one stage in <paramref name="directory"/>: the executable files in its subdirectory
    /// <c>pre-migrate</c> or <c>post-migrate</c>, in ordinal order of their names. A missing directory has none.
    /// </summary>
    /// <param name="directory">The hooks directory.</param>
    /// <param name="stage">The stage.</param>
    /// <returns>The hooks, in the order they run.</returns>
    public static IReadOnlyList<ExecutableHook> InDirectory(string directory, HookStage stage)
    {
        string folder = System.IO.Path.Combine(directory, stage == HookStage.PreMigrate ? "pre-migrate" : "post-migrate");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(folder)
            .Where(f => OperatingSystem.IsWindows() ||
                (File.GetUnixFileMode(f) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            .Order(StringComparer.Ordinal)
            .Select(f => new ExecutableHook(f))];
    }

    /// <inheritdoc />
    public async ValueTask<HookVerdict> RunAsync(MigrationHookContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        await ThreadPoolHop.IfNeeded();
        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            Environment =
            {
                ["SECMIG_MIGRATION_ID"] = context.MigrationId.ToString(),
                ["SECMIG_VM_ID"] = context.VmId,
                ["SECMIG_ROLE"] = context.Role == MigrationRole.Source ? "source" : "destination",
                ["SECMIG_STAGE"] = context.Stage == HookStage.PreMigrate ? "pre-migrate" : "post-migrate",
                ["SECMIG_SOURCE_HOST"] = context.SourceHost,
                ["SECMIG_DESTINATION_HOST"] = context.DestinationHost,
                ["SECMIG_EPOCH"] = context.Epoch.ToString(CultureInfo.InvariantCulture),
            },
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"The hook '{Path}' could not be started.");
        // A hook may write without end: only the tail of standard error is kept, and standard output is drained unread.
        Task<string> errors = ReadTailAsync(process.StandardError, MaxErrorTail);
        Task<string> output = ReadTailAsync(process.StandardOutput, 0);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        await Task.WhenAll(errors, output).ConfigureAwait(false);
        if (process.ExitCode == 0)
        {
            return HookVerdict.Allow;
        }

        string? lastLine = (await errors.ConfigureAwait(false)).Split('\n',
            StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return HookVerdict.Veto($"exited with code " +
            $"{process.ExitCode}{(lastLine is null ? string.Empty : ": " + UntrustedText.Bound(lastLine))}");
    }

    /// <summary>Reads <paramref name="reader"/> to its end and returns at most its last <paramref name="keep"/> characters.</summary>
    private static async Task<string> ReadTailAsync(StreamReader reader, int keep)
    {
        char[] chunk = new char[4096];
        var tail = new System.Text.StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(chunk, CancellationToken.None).ConfigureAwait(false)) > 0)
        {
            tail.Append(chunk, 0, read);
            if (tail.Length > keep)
            {
                tail.Remove(0, tail.Length - keep);
            }
        }

        return tail.ToString();
    }
}
