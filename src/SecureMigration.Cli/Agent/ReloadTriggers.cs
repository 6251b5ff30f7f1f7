using System.Runtime.InteropServices;
using SecureMigration.Text;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// What asks a running agent to reload: SIGHUP (systemd's <c>ExecReload</c>), and a change to one of its credential files, its
/// <c>--config</c> file or its hooks folders. A change is served once the files have been quiet for <see cref="QuietPeriod"/>, so a
/// certificate and its key written one after the other are loaded together, not the certificate with the old key.
/// </summary>
internal sealed class ReloadTriggers : IDisposable
{
    /// <summary>How long the watched files must be quiet before a change is served.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(1);

    /// <summary>The most changed paths one reload names (a hooks folder may get any number of files); more are counted.</summary>
    private const int MaxPathsNamed = 8;

    private readonly CredentialReloader _reloader;
    private readonly TimeProvider _time;
    private readonly PosixSignalRegistration _hangUp;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly HashSet<string> _files;
    private readonly HashSet<string> _folders;
    private readonly Lock _gate = new();
    private ITimer? _quiet;
    private readonly SortedSet<string> _changed = new(StringComparer.Ordinal);
    private int _unnamed;

    /// <summary>Starts listening for SIGHUP and watching <paramref name="files"/> (each a file) and <paramref name="folders"/> (any
    /// file in them).</summary>
    public ReloadTriggers(CredentialReloader reloader, IEnumerable<string> files, IEnumerable<string> folders, TimeProvider time)
    {
        _reloader = reloader;
        _time = time;
        _files = new HashSet<string>(files.Select(Path.GetFullPath), StringComparer.Ordinal);
        _folders = new HashSet<string>(folders.Select(Path.GetFullPath), StringComparer.Ordinal);
        _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true; // a hang-up reloads; it never ends the agent
            reloader.Request("SIGHUP");
        });
        foreach (string directory in _files.Select(Path.GetDirectoryName).Concat(_folders).OfType<string>().Distinct()
            .Where(Directory.Exists))
        {
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size |
                    NotifyFilters.Attributes,
            };
            watcher.Changed += (_, e) => Changed(e.FullPath);
            watcher.Created += (_, e) => Changed(e.FullPath);
            watcher.Deleted += (_, e) => Changed(e.FullPath);
            watcher.Renamed += (_, e) => Changed(e.FullPath);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    private void Changed(string path)
    {
        bool watched = _files.Contains(path) || (Path.GetDirectoryName(path) is { } folder && _folders.Contains(folder)) ||
            _folders.Contains(path);
        if (!watched)
        {
            return;
        }

        lock (_gate)
        {
            // Whoever writes a hooks folder names its files: shown bounded and escaped.
            string shown = UntrustedText.Bound(path, 300);
            if (_changed.Count < MaxPathsNamed)
            {
                _changed.Add(shown);
            }
            else if (!_changed.Contains(shown))
            {
                _unnamed++;
            }

            _quiet ??= _time.CreateTimer(_ => Quiet(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _quiet.Change(QuietPeriod, Timeout.InfiniteTimeSpan);
        }
    }

    private void Quiet()
    {
        string changed;
        lock (_gate)
        {
            changed = string.Join(", ", _changed) + (_unnamed > 0 ? $" and {_unnamed} more changes" : string.Empty);
            _changed.Clear();
            _unnamed = 0;
        }

        _reloader.Request($"{changed} changed");
    }

    public void Dispose()
    {
        _hangUp.Dispose();
        _watchers.ForEach(watcher => watcher.Dispose());
        lock (_gate)
        {
            _quiet?.Dispose();
        }
    }
}
