using System.Diagnostics;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>
/// A long-running helper process of a benchmark (a tunnel end, an agent), started and considered ready once it
/// prints a line with a marker; its output is drained so it never blocks on a full pipe. Disposing kills it.
/// </summary>
internal sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;

    private BackgroundProcess(Process process) => _process = process;

    /// <summary>Starts <paramref name="command"/> (a program and its arguments) as the other overload does.</summary>
    /// <returns>The process and the text after the marker that made it ready.</returns>
    public static Task<(BackgroundProcess Process, string ReadyLine)> StartAsync((string Program, List<string> Arguments) command,
        params string[] readyMarkers) => StartAsync(command.Program, command.Arguments, readyMarkers);

    /// <summary>Starts <paramref name="program"/> and waits until it prints a line containing one of
    /// <paramref name="readyMarkers"/>.</summary>
    /// <returns>The process and the text after the marker that made it ready.</returns>
    public static async Task<(BackgroundProcess Process, string ReadyLine)> StartAsync(string program, IEnumerable<string> arguments,
        params string[] readyMarkers)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Probing ports would open real connections (a tunnelled one, a migration); the line the process prints is the signal.
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new List<string>();
        Process process = Process.Start(start)!;
        DataReceivedEventHandler watch = (_, line) =>
        {
            if (line.Data is not { } text)
            {
                return;
            }

            lock (output)
            {
                output.Add(text);
            }

            foreach (string marker in readyMarkers)
            {
                int at = text.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    ready.TrySetResult(text[(at + marker.Length)..]);
                }
            }
        };
        process.OutputDataReceived += watch;
        process.ErrorDataReceived += watch;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var started = new BackgroundProcess(process);
        try
        {
            return (started, await ready.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        catch (TimeoutException)
        {
            started.Dispose();
            lock (output)
            {
                throw new InvalidOperationException($"{program} did not get ready in 30 s; it " +
                    $"printed:{Environment.NewLine}{string.Join(Environment.NewLine, output)}");
            }
        }
    }

    /// <summary>Gets the process's id.</summary>
    public int Id => _process.Id;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the processor time the process has used so far (user and kernel, from the kernel's accounting).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public void Dispose()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
