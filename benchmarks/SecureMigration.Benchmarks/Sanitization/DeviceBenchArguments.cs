using System.Globalization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// The device bench's command line: <c>[MiB] [rounds] [output-directory] [backing-directory]</c>, or the backing directory
/// as <c>--backing-dir DIR</c> anywhere (e.g. <c>/dev/shm</c> for a loop device with no disk behind it).
/// </summary>
/// <param name="MiB">The loop device's size in MiB.</param>
/// <param name="Rounds">How many rounds of every case.</param>
/// <param name="Output">Where the CSV, JSON, Markdown and SVG go.</param>
/// <param name="BackingDirectory">Where the loop device's backing file is created.</param>
internal sealed record DeviceBenchArguments(long MiB, int Rounds, string Output, string BackingDirectory)
{
    /// <summary>Gets the backing directory when none is given: a disk-backed file system.</summary>
    public const string DefaultBackingDirectory = "/var/tmp";

    private const string BackingOption = "--backing-dir";

    /// <summary>Reads the arguments after <c>sanitizer-device</c>.</summary>
    /// <exception cref="ArgumentException">An option without its value, or an unknown option.</exception>
    public static DeviceBenchArguments Parse(string[] args)
    {
        var positional = new List<string>();
        string? backing = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == BackingOption || args[i].StartsWith(BackingOption + "=", StringComparison.Ordinal))
            {
                backing = args[i].Length > BackingOption.Length ? args[i][(BackingOption.Length + 1)..]
                    : i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{BackingOption} needs a directory.");
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unknown option '{args[i]}'; the one option is {BackingOption} DIR.");
            }
            else
            {
                positional.Add(args[i]);
            }
        }

        return new DeviceBenchArguments(
            positional.Count > 0 ? long.Parse(positional[0], CultureInfo.InvariantCulture) : 1024,
            positional.Count > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 5,
            positional.Count > 2 ? positional[2] : Directory.GetCurrentDirectory(),
            backing ?? (positional.Count > 3 ? positional[3] : DefaultBackingDirectory));
    }
}
