using System.Diagnostics;
using System.Text;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A real child process whose output is captured, so a test can wait for what it prints and type into it.</summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _stdout;
    private readonly Task _stderr;

    private ExternalProcess(Process process)
    {
        _process = process;
        _stdout = PumpAsync(process.StandardOutput.BaseStream);
        _stderr = PumpAsync(process.StandardError.BaseStream);
    }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Gets the process id (for /proc/PID).</summary>
    public int Id => _process.Id;

    public static ExternalProcess Start(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(ExternalProgram.Require(program))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new ExternalProcess(Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}."));
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; returns the output after it.</summary>
    public async Task<string> WaitForAsync(string text)
    {
        string output = await WaitUntilAsync(o => o.Contains(text, StringComparison.Ordinal), $"'{text}'");
        return output[(output.IndexOf(text, StringComparison.Ordinal) + text.Length)..];
    }

    /// <summary>Waits until the whole output so far satisfies <paramref name="condition"/>; returns it.</summary>
    public async Task<string> WaitUntilAsync(Func<string, bool> condition, string what)
    {
        using var patience = new CancellationTokenSource(Patience);
        while (true)
        {
            string output = Output;
            if (condition(output))
            {
                return output;
            }

            if (_stdout.IsCompleted && _stderr.IsCompleted)
            {
                throw new InvalidOperationException($"The process ended without printing {what}. It printed:\n{output}");
            }

            try
            {
                await _changed.WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The process did not print {what} within {Patience}. It printed:\n{output}");
            }
        }
    }

    /// <summary>Sends a signal (for example INT, as Ctrl-C does) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", [$"-{signal}",
            _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>Kills the process with SIGKILL, as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for <c>Keying material: HEX</c> (openssl's <c>-keymatexport</c>) and returns the bytes.</summary>
    public async Task<byte[]> KeyingMaterialAsync()
    {
        using var patience = new CancellationTokenSource(Patience);
        while (true)
        {
            string after = await WaitForAsync("Keying material: ");
            int end = after.IndexOfAny(['\r', '\n']);
            if (end > 0)
            {
                return Convert.FromHexString(after[..end].Trim());
            }

            await _changed.WaitAsync(patience.Token);
        }
    }

    public async Task WriteAsync(byte[] data)
    {
        await _process.StandardInput.BaseStream.WriteAsync(data);
        await _process.StandardInput.BaseStream.FlushAsync();
    }

    public async Task<int> WaitForExitAsync()
    {
        using var patience = new CancellationTokenSource(Patience);
        await _process.WaitForExitAsync(patience.Token);
        await Task.WhenAll(_stdout, _stderr).WaitAsync(patience.Token);
        return _process.ExitCode;
    }

    /// <summary>Kills the process and what it started, and waits, boundedly, for both to be gone: a process it started that
    /// outlives it and holds its output is a leak, reported by name, not a wait without end (which would hold the whole test run:
    /// the test host's own output pipes stay open with it).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var patience = new CancellationTokenSource(Patience);
            try
            {
                await _process.WaitForExitAsync(patience.Token);
                await Task.WhenAll(_stdout, _stderr).WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{_process.StartInfo.FileName}' (pid {_process.Id}) or a process it started still " +
                    $"held its output {Patience} after it was killed. It printed:\n{Output}");
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task PumpAsync(Stream stream)
    {
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lock (_gate)
            {
                _output.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            _changed.Release();
        }

        _changed.Release();
    }
}
