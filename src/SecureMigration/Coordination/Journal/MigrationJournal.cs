using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Coordination.Phases;
using SecureMigration.Identity;
using SecureMigration.Storage;
using SecureMigration.Threading;

namespace SecureMigration.Coordination.Journal;

/// <summary>
/// The host's durable, append-only record of every migration's checkpoints (one journal per host, many migrations
/// in it). <see cref="IMigrationJournal.AppendAsync"/> returns only once the record is on disk, so a coordinator never acts on a phase
/// a crash could lose. Records are chained with HMAC-SHA-256 under the <see cref="HostKey"/>: a torn or damaged
/// tail is dropped and reported (<see cref="DroppedTail"/>), an edit anywhere before it refuses the whole journal.
/// Thread-safe.
/// </summary>
public sealed class MigrationJournal : IMigrationJournal, IDisposable
{
    private const long MaxJournalBytes = 1L << 30;

    private readonly SafeFileHandle _handle;
    private readonly byte[] _macKey;
    private readonly TimeProvider _time;
    /// <summary>One append at a time, held across its write and flush.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Guards what readers see (records, latest, head): held for a copy, never across I/O, so a reader (which may run
    /// on a socket's completion thread) never waits for a disk flush.</summary>
    private readonly Lock _state = new();
    private readonly List<JournalRecord> _records;
    private readonly Dictionary<Guid, JournalRecord> _latest;
    private byte[] _lastMac;
    private long _length;
    private bool _faulted;

    private MigrationJournal(string path, SafeFileHandle handle, byte[] macKey, TimeProvider time, JournalContents contents)
    {
        Path = path;
        _handle = handle;
        _macKey = macKey;
        _time = time;
        _records = contents.Records;
        _latest = contents.Latest;
        _lastMac = contents.LastMac;
        _length = contents.Length;
        DroppedTail = contents.DroppedTail;
    }

    /// <summary>Gets the journal file's full path.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public string Name => Path;

    /// <summary>Gets what was dropped from the end of the file when it was opened, if anything.</summary>
    public JournalTail? DroppedTail { get; }

    /// <summary>
    /// Opens the journal at <paramref name="path"/>, creating it if it does not exist, and verifies every record. A torn
    /// or damaged tail is cut off (see <see cref="DroppedTail"/>) so new records chain from the last authentic one.
    /// </summary>
    /// <param name="path">The journal file.</param>
    /// <param name="key">The host key the journal is authenticated with.</param>
    /// <param name="timeProvider">The clock that stamps records, or <see langword="null"/> for the system clock.</param>
    /// <returns>The open journal.</returns>
    /// <exception cref="JournalCorruptedException">The journal was edited, damaged before its tail, or written with another
    /// key.</exception>
    public static MigrationJournal Open(string path, HostKey key, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);
        string fullPath = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        bool created = !File.Exists(fullPath);
        SafeFileHandle handle = File.OpenHandle(fullPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        byte[] macKey = key.DeriveSubkey("journal");
        try
        {
            // A journal shorter than its header was torn while it was being created, before any record: start it afresh.
            if (created || IsTornHeader(handle))
            {
                byte[] header = JournalCodec.NewHeader(macKey);
                RandomAccess.Write(handle, header, 0);
                RandomAccess.FlushToDisk(handle);
                DurableFile.FlushDirectory(directory);
            }

            JournalContents contents = ReadAll(fullPath, handle, macKey);
            if (contents.DroppedTail is not null)
            {
                RandomAccess.SetLength(handle, contents.Length);
                RandomAccess.FlushToDisk(handle);
            }

            return new MigrationJournal(fullPath, handle, macKey, timeProvider ?? TimeProvider.System, contents);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(macKey);
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads and verifies a journal without changing it (for status and verification tools).</summary>
    /// <param name="path">The journal file.</param>
    /// <param name="key">The host key the journal is authenticated with.</param>
    /// <returns>The authentic records, and what a torn tail held.</returns>
    /// <exception cref="JournalCorruptedException">The journal was edited, damaged before its tail, or written with another
    /// key.</exception>
    /// <exception cref="FileNotFoundException">There is no journal at <paramref name="path"/>.</exception>
    public static (IReadOnlyList<JournalRecord> Records, JournalTail? DroppedTail) Read(string path, HostKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string fullPath = System.IO.Path.GetFullPath(path);
        using SafeFileHandle handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] macKey = key.DeriveSubkey("journal");
        try
        {
            JournalContents contents = ReadAll(fullPath, handle, macKey);
            return (contents.Records, contents.DroppedTail);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>Gets a copy of every record, oldest first.</summary>
    public IReadOnlyList<JournalRecord> Records
    {
        get
        {
            lock (_state)
            {
                return [.. _records];
            }
        }
    }

    /// <summary>Gets the latest record of every migration in the journal.</summary>
    public IReadOnlyList<JournalRecord> LatestRecords
    {
        get
        {
            lock (_state)
            {
                return [.. _latest.Values.OrderBy(r => r.Sequence)];
            }
        }
    }

    /// <summary>Gets where the journal ends: its last record's sequence and authentication tag.</summary>
    public JournalHead Head
    {
        get
        {
            lock (_state)
            {
                return new JournalHead(_records.Count, Convert.ToHexStringLower(_lastMac));
            }
        }
    }

    /// <summary>Gets whether a migration of <paramref name="vmId"/> is unfinished in the journal; no copy, no sort (a refused ticket asks
    /// it).</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns><see langword="true"/> when its latest record is not a final phase.</returns>
    public bool HasUnfinished(string vmId)
    {
        lock (_state)
        {
            foreach (JournalRecord latest in _latest.Values)
            {
                if (string.Equals(latest.VmId, vmId, StringComparison.Ordinal) && !MigrationStateMachine.IsFinal(latest.Phase))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Gets the latest record of one migration, or <see langword="null"/> if the journal has none.</summary>
    /// <param name="migrationId">The migration.</param>
    /// <returns>Its latest record.</returns>
    public JournalRecord? Latest(Guid migrationId)
    {
        lock (_state)
        {
            return _latest.GetValueOrDefault(migrationId);
        }
    }

    /// <summary>
    /// Appends <paramref name="record"/> (stamped with the time and its sequence number) and flushes it to disk. The
    /// phase must follow the migration's previous one by the rules of the phase state machine. Only the coordinator
    /// appends: the method is reached through <see cref="IMigrationJournal"/>, not on this class.
    /// </summary>
    /// <param name="record">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the wait for the journal; a write that started completes.</param>
    /// <returns>The record as written.</returns>
    /// <exception cref="IllegalPhaseTransitionException">The phase does not follow the migration's last one.</exception>
    /// <exception cref="JournalWriteException">The record could not be made durable; nothing of it remains in the file.</exception>
    ValueTask<JournalRecord> IMigrationJournal.AppendAsync(JournalRecord record, CancellationToken cancellationToken) =>
        AppendAsync(record, cancellationToken);

    /// <summary>Appends <paramref name="record"/> as <see cref="IMigrationJournal.AppendAsync"/> does.</summary>
    /// <param name="record">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the wait for the journal; a write that started completes.</param>
    /// <returns>The record as written.</returns>
    internal async ValueTask<JournalRecord> AppendAsync(JournalRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return (await AppendRangeAsync([record], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>
    /// Appends several checkpoints with one write and one flush (group commit): all of them become durable, or none.
    /// Each must follow its migration's previous one, earlier records of the same call included.
    /// </summary>
    /// <param name="records">The checkpoints, in order.</param>
    /// <param name="cancellationToken">Cancels the wait for the journal; a write that started completes.</param>
    /// <returns>The records as written.</returns>
    /// <exception cref="IllegalPhaseTransitionException">A phase does not follow its migration's last one; nothing is written.</exception>
    /// <exception cref="JournalWriteException">The records could not be made durable; nothing of them remains in the file.</exception>
    public async ValueTask<IReadOnlyList<JournalRecord>> AppendRangeAsync(IReadOnlyList<JournalRecord> records,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return [];
        }

        await ThreadPoolHop.IfNeeded();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            var pending = new Dictionary<Guid, JournalRecord>();
            var stamped = new JournalRecord[records.Count];
            using var encoded = new MemoryStream();
            byte[] mac = _lastMac;
            DateTimeOffset now = _time.GetUtcNow();
            for (int i = 0; i < records.Count; i++)
            {
                JournalRecord record = records[i];
                MigrationStateMachine.EnsureFollows(record, pending.GetValueOrDefault(record.MigrationId) ??
                    _latest.GetValueOrDefault(record.MigrationId));
                stamped[i] = record with { Sequence = _records.Count + i + 1, At = now };
                byte[] bytes = JournalCodec.Encode(stamped[i], _macKey, mac);
                encoded.Write(bytes);
                mac = bytes[^JournalCodec.MacLength..];
                pending[record.MigrationId] = stamped[i];
            }

            if (_faulted)
            {
                throw new JournalWriteException(Path, records[0], new IOException("an earlier write failed and could not be undone, so " +
                    "the file's end is unknown"));
            }

            try
            {
                await RandomAccess.WriteAsync(_handle, encoded.GetBuffer().AsMemory(0, (int)encoded.Length), _length,
                    CancellationToken.None).ConfigureAwait(false);
                RandomAccess.FlushToDisk(_handle);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Undo();
                throw new JournalWriteException(Path, records[0], e);
            }

            _length += encoded.Length;
            lock (_state)
            {
                _lastMac = mac;
                _records.AddRange(stamped);
                foreach (JournalRecord written in stamped)
                {
                    _latest[written.MigrationId] = written;
                }
            }

            return stamped;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the file and wipes the key.</summary>
    public void Dispose()
    {
        _handle.Dispose();
        CryptographicOperations.ZeroMemory(_macKey);
    }

    private static bool IsTornHeader(SafeFileHandle handle)
    {
        Span<byte> start = stackalloc byte[JournalCodec.HeaderLength];
        int length = RandomAccess.Read(handle, start, 0);
        return length < JournalCodec.HeaderLength && JournalCodec.IsTornHeader(start[..length]);
    }

    /// <summary>Cuts a failed write back off, so the chain stays intact; if even that fails, the journal refuses further writes.</summary>
    private void Undo()
    {
        try
        {
            RandomAccess.SetLength(_handle, _length);
        }
        catch (IOException)
        {
            _faulted = true;
        }
    }

    private static JournalContents ReadAll(string path, SafeFileHandle handle, byte[] macKey)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength > MaxJournalBytes)
        {
            throw new JournalCorruptedException(path, MaxJournalBytes, $"the file goes on past {MaxJournalBytes} bytes, more than a " +
                $"journal may hold");
        }

        byte[] bytes = new byte[fileLength];
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (!JournalCodec.IsHeader(bytes.AsSpan(0, read)))
        {
            throw new JournalCorruptedException(path, 0, "there is no journal header");
        }

        if (!JournalCodec.IsKeyOf(bytes, macKey))
        {
            throw new JournalCorruptedException(path, 0, "the header was not written with this host key");
        }

        var contents = new JournalContents(JournalCodec.ChainSeed(bytes), JournalCodec.HeaderLength);
        long offset = JournalCodec.HeaderLength;
        while (offset < read)
        {
            ReadOnlySpan<byte> rest = bytes.AsSpan((int)offset, (int)(read - offset));
            JournalCodec.ReadOutcome outcome = JournalCodec.TryRead(rest, macKey, contents.LastMac, out JournalRecord? record,
                out int length);
            if (outcome == JournalCodec.ReadOutcome.Record)
            {
                offset += length;
                Accept(path, offset, contents, record!, bytes.AsSpan((int)offset - JournalCodec.MacLength, JournalCodec.MacLength));
                continue;
            }

            // A crash tears at most the one record being appended: anything else is an edit or damage, not a tear.
            bool isLastRecord = outcome is JournalCodec.ReadOutcome.Incomplete or JournalCodec.ReadOutcome.BadLength
                ? rest.Length <= JournalCodec.MaxRecordLength
                : length == rest.Length;
            if (!isLastRecord || outcome == JournalCodec.ReadOutcome.BadContent)
            {
                throw new JournalCorruptedException(path, offset, Describe(outcome));
            }

            contents.DroppedTail = new JournalTail(offset, rest.Length, Describe(outcome));
            break;
        }

        return contents;
    }

    /// <summary>Takes an authentic record that ends at <paramref name="end"/>, once it also makes sense.</summary>
    private static void Accept(string path, long end, JournalContents contents, JournalRecord record, ReadOnlySpan<byte> mac)
    {
        if (record.Sequence != contents.Records.Count + 1)
        {
            throw new JournalCorruptedException(path, end, $"record {contents.Records.Count + 1} carries sequence number " +
                $"{record.Sequence}");
        }

        try
        {
            MigrationStateMachine.EnsureFollows(record, contents.Latest.GetValueOrDefault(record.MigrationId));
        }
        catch (Exception e) when (e is IllegalPhaseTransitionException or ArgumentException)
        {
            throw new JournalCorruptedException(path, end, $"record {record.Sequence} does not follow its migration's previous one " +
                $"({e.Message})");
        }

        contents.Records.Add(record);
        contents.Latest[record.MigrationId] = record;
        contents.LastMac = mac.ToArray();
        contents.Length = end;
    }

    private static string Describe(JournalCodec.ReadOutcome outcome) => outcome switch
    {
        JournalCodec.ReadOutcome.Incomplete => "the last record is cut short",
        JournalCodec.ReadOutcome.BadLength => "a record's length is outside 1..16384 bytes",
        JournalCodec.ReadOutcome.BadMac => "a record fails its authentication code",
        _ => "an authentic record does not hold a journal record (written by an incompatible version?)",
    };

    private sealed class JournalContents(byte[] seed, long length)
    {
        public List<JournalRecord> Records { get; } = [];

        public Dictionary<Guid, JournalRecord> Latest { get; } = [];

        public byte[] LastMac { get; set; } = seed;

        public long Length { get; set; } = length;

        public JournalTail? DroppedTail { get; set; }
    }
}
