using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SecureMigration.Identity;
using SecureMigration.Storage;
using SecureMigration.Threading;

namespace SecureMigration.Audit;

/// <summary>
/// An append-only, chained log of what happened to migrations on this host. Each line is
/// <c>HMAC-SHA-256(hex) space JSON</c>, keyed with a subkey of the <see cref="HostKey"/>; the JSON carries the MAC of the
/// line before, so an edited, forged, deleted or reordered line breaks the chain at that line (<see cref="Verify"/>,
/// <c>secmig audit verify</c>), and whoever can write the file but lacks the host key cannot recompute the chain.
/// Cutting lines off the end is not detectable from the log alone: the journal, which is authenticated with the same
/// key, is the record to compare with. Thread-safe; every append is flushed to disk.
/// </summary>
public sealed class AuditLog : IAuditSink, IDisposable
{
    private const int HashHexLength = 64;
    private const int MaxLineBytes = 64 * 1024;
    private static readonly string Genesis = new('0', HashHexLength);

    private readonly FileStream _file;
    private readonly byte[] _macKey;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _lastHash;
    private long _sequence;

    private AuditLog(string path, string host, FileStream file, byte[] macKey, TimeProvider time, AuditEntry? last, string lastHash)
    {
        Path = path;
        Host = host;
        _file = file;
        _macKey = macKey;
        _time = time;
        _lastHash = lastHash;
        _sequence = last?.Sequence ?? 0;
    }

    /// <summary>Gets the log file's full path.</summary>
    public string Path { get; }

    /// <summary>Gets the host named in new entries.</summary>
    public string Host { get; }

    /// <summary>Opens (or creates) the log at <paramref name="path"/>, verifies it, cuts off a torn last line and continues the
    /// chain.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="host">The host that writes it.</param>
    /// <param name="key">The host key the entries are authenticated with.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/> for the system clock.</param>
    /// <returns>The open log.</returns>
    /// <exception cref="InvalidDataException">The log was edited, forged or damaged, or written under another key; it is left as it is for
    /// investigation.</exception>
    public static AuditLog Open(string path, string host, HostKey key, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        return Open(path, _ => host, key, timeProvider);
    }

    /// <summary>
    /// Opens the log at <paramref name="path"/> like <see cref="Open(string, string, HostKey, TimeProvider?)"/>, for a tool
    /// that writes on the host's behalf (<c>secmig admission reset</c>): new entries name the host the last entry names, so
    /// the log keeps one host name whoever appends, or <paramref name="newLogHost"/> when the log has no entry yet.
    /// </summary>
    /// <param name="path">The log file.</param>
    /// <param name="newLogHost">The host named when the log has no entry yet.</param>
    /// <param name="key">The host key the entries are authenticated with.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/> for the system clock.</param>
    /// <returns>The open log.</returns>
    /// <exception cref="InvalidDataException">The log was edited, forged or damaged, or written under another key; it is left as it is for
    /// investigation.</exception>
    public static AuditLog OpenContinuing(string path, string newLogHost, HostKey key, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(newLogHost);
        return Open(path, last => last?.Host ?? newLogHost, key, timeProvider);
    }

    private static AuditLog Open(string path, Func<AuditEntry?, string> host, HostKey key, TimeProvider? timeProvider)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);
        string fullPath = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
        bool created = !File.Exists(fullPath);
        var file = new FileStream(fullPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 4096, FileOptions.Asynchronous);
        byte[] macKey = key.DeriveSubkey("audit");
        try
        {
            (AuditVerification verification, long goodLength, string lastHash) = Check(file, macKey);
            if (!verification.IsIntact)
            {
                throw new InvalidDataException($"The audit log '{fullPath}' fails verification: {verification.Problem}. It is left " +
                    $"untouched; keep it for investigation and start a new log beside it.");
            }

            file.SetLength(goodLength);
            file.Position = goodLength;
            if (created)
            {
                DurableFile.FlushDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
            }

            AuditEntry? last = verification.Entries.LastOrDefault();
            return new AuditLog(fullPath, host(last), file, macKey, timeProvider ?? TimeProvider.System, last, lastHash);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(macKey);
            file.Dispose();
            throw;
        }
    }

    /// <summary>Checks the log at <paramref name="path"/> without changing it.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="key">The key of the host that wrote it.</param>
    /// <returns>What the check found.</returns>
    public static AuditVerification Verify(string path, HostKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] macKey = key.DeriveSubkey("audit");
        try
        {
            return Check(file, macKey).Verification;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>Appends an entry and flushes it to disk.</summary>
    /// <param name="migrationId">The migration, if any.</param>
    /// <param name="vmId">The VM, if any.</param>
    /// <param name="eventName">What happened.</param>
    /// <param name="detail">More about it, if anything; never a secret.</param>
    /// <param name="cancellationToken">Cancels the wait for the log.</param>
    /// <returns>The entry as written.</returns>
    public async ValueTask<AuditEntry> AppendAsync(Guid? migrationId, string? vmId, string eventName, string? detail = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        await ThreadPoolHop.IfNeeded();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var entry = new AuditEntry(_sequence + 1, _time.GetUtcNow(), Host, migrationId, vmId, eventName, detail, _lastHash);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(entry, AuditJson.Default.AuditEntry);
            string hash = Convert.ToHexStringLower(HMACSHA256.HashData(_macKey, json));
            byte[] line = [.. Encoding.ASCII.GetBytes(hash + " "), .. json, (byte)'\n'];
            long start = _file.Position;
            try
            {
                await _file.WriteAsync(line, CancellationToken.None).ConfigureAwait(false);
                _file.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                _file.SetLength(start);
                _file.Position = start;
                throw;
            }

            _sequence = entry.Sequence;
            _lastHash = hash;
            return entry;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the file and wipes the key.</summary>
    public void Dispose()
    {
        _file.Dispose();
        CryptographicOperations.ZeroMemory(_macKey);
    }

    private static (AuditVerification Verification, long GoodLength, string LastHash) Check(FileStream file, byte[] macKey)
    {
        file.Position = 0;
        var entries = new List<AuditEntry>();
        string previous = Genesis;
        long good = 0;
        int lineNumber = 0;
        byte[] content = new byte[file.Length];
        file.ReadExactly(content);
        int offset = 0;
        while (offset < content.Length)
        {
            lineNumber++;
            int end = content.AsSpan(offset).IndexOf((byte)'\n');
            if (end < 0)
            {
                // A crash tore the last line; it never counted.
                return (new AuditVerification(true, entries, null, TornTail: true), good, previous);
            }

            ReadOnlySpan<byte> line = content.AsSpan(offset, end);
            string? problem = CheckLine(line, macKey, previous, entries.Count + 1, out AuditEntry? entry, out string hash);
            if (problem is not null)
            {
                string host = entries.Count > 0 ? $" (host '{Text.UntrustedText.Bound(entries[^1].Host, 160)}', after entry " +
                    $"{entries[^1].Sequence.ToString(CultureInfo.InvariantCulture)})" : string.Empty;
                return (new AuditVerification(false, entries, $"line {lineNumber.ToString(CultureInfo.InvariantCulture)}{host} {problem}",
                    TornTail: false), good, previous);
            }

            entries.Add(entry!);
            previous = hash;
            offset += end + 1;
            good = offset;
        }

        return (new AuditVerification(true, entries, null, TornTail: false), good, previous);
    }

    private static string? CheckLine(ReadOnlySpan<byte> line, byte[] macKey, string previous, long sequence, out AuditEntry? entry,
        out string hash)
    {
        entry = null;
        hash = string.Empty;
        if (line.Length > MaxLineBytes || line.Length < HashHexLength + 2 || line[HashHexLength] != (byte)' ')
        {
            return "is not an audit entry";
        }

        hash = Encoding.ASCII.GetString(line[..HashHexLength]);
        ReadOnlySpan<byte> json = line[(HashHexLength + 1)..];
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash),
            Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(macKey, json)))))
        {
            return "was edited or forged: its MAC does not match its content under this host's key (or the log belongs to another host " +
                "key)";
        }

        try
        {
            entry = JsonSerializer.Deserialize(json, AuditJson.Default.AuditEntry);
        }
        catch (JsonException)
        {
            return "holds no audit entry";
        }

        if (entry is null || !string.Equals(entry.Previous, previous, StringComparison.Ordinal))
        {
            return "does not follow the line before it: a line was deleted, inserted or moved";
        }

        return entry.Sequence == sequence ? null : $"carries sequence {entry.Sequence}, expected {sequence}";
    }
}
