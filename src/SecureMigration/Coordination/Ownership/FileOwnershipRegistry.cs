using System.Security.Cryptography;
using System.Text.Json;
using SecureMigration.Coordination.Journal;
using SecureMigration.Identity;
using SecureMigration.Storage;
using SecureMigration.Text;
using SecureMigration.Threading;

namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// An ownership registry in a directory: one checksummed file per VM (signed by its owner's X.509 key, or sealed with
/// its owner's PSK keyring, when the registry is opened with them), replaced atomically, and every
/// compare-and-swap under an exclusive lock file, so processes sharing the directory (both hosts of a demo, or hosts
/// on a shared file system) see one order of changes. It also anchors each host's journal head
/// (<see cref="IJournalAnchor"/>, in <c>journal-heads/</c>).
/// </summary>
public sealed class FileOwnershipRegistry : IOwnershipRegistry, IJournalAnchor, ICredentialRotation
{
    private const int ChecksumLength = 32;
    private const int MaxRecordBytes = 256 * 1024;
    private static readonly byte[] Magic = "SMOWN1\n"u8.ToArray();
    private static readonly byte[] SignedMagic = "SMOWN2\n"u8.ToArray();
    private static readonly byte[] PskSealedMagic = "SMOWN3\n"u8.ToArray();
    private static readonly byte[] HeadMagic = "SMHEAD1\n"u8.ToArray();
    private static readonly byte[] IdMagic = "SMREGID1\n"u8.ToArray();
    private const int IdBytes = 16;

    private readonly TimeProvider _time;
    private volatile X509ChannelCredentials? _signer;
    private volatile PskKeyringCredentials? _keyring;
    private readonly SemaphoreSlim _headGate = new(1, 1);
    private string? _id;

    /// <summary>Creates a registry kept in <paramref name="directory"/> (created on first write).</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="timeProvider">The clock that stamps changes, or <see langword="null"/> for the system clock.</param>
    /// <param name="signer">
    /// This host's X.509 credentials, to sign every record it writes and to accept only records signed by their owner
    /// under the same CA, so whoever can write the directory without a host's key cannot hand a VM to anyone; or
    /// <see langword="null"/> for checksummed records only.
    /// </param>
    public FileOwnershipRegistry(string directory, TimeProvider? timeProvider = null, X509ChannelCredentials? signer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _time = timeProvider ?? TimeProvider.System;
        _signer = signer;
    }

    /// <summary>Creates a registry for a PSK keyring cluster kept in <paramref name="directory"/> (created on first write).</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="timeProvider">The clock that stamps changes, or <see langword="null"/> for the system clock.</param>
    /// <param name="keyring">
    /// This host's PSK keyring, which must hold a key of its own (<c>secmig pki psk</c> writes one): every record this
    /// host writes is sealed with a MAC for each host of the keyring, and only records whose writer is their owner and
    /// whose MAC for this host holds are accepted, so no host can write a record in another host's name.
    /// </param>
    /// <exception cref="InvalidCredentialsException">The keyring has no key of its own.</exception>
    public FileOwnershipRegistry(string directory, TimeProvider? timeProvider, PskKeyringCredentials keyring)
        : this(directory, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        _ = PskRecordSeal.OwnKey(keyring);
        _keyring = keyring;
    }

    /// <summary>Gets the registry's directory.</summary>
    public string Directory { get; }

    /// <inheritdoc />
    /// <remarks>A registry created with a signer takes certificates, one created with a keyring a keyring with a key of its own; one
    /// of checksummed records only has no credentials to rotate.</remarks>
    public void RotateCredentials(ChannelCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (_signer is not null)
        {
            _signer = credentials as X509ChannelCredentials ?? throw new ArgumentException("This registry signs its records with a " +
                $"certificate; {credentials.GetType().Name} cannot replace it.", nameof(credentials));
        }
        else if (_keyring is not null)
        {
            var keyring = credentials as PskKeyringCredentials ?? throw new ArgumentException("This registry seals its records with a " +
                $"PSK keyring; {credentials.GetType().Name} cannot replace it.", nameof(credentials));
            _ = PskRecordSeal.OwnKey(keyring);
            _keyring = keyring;
        }
    }

    /// <inheritdoc />
    /// <remarks>Kept in <c>registry.id</c> (checksummed), written with the first record, or now under the lock when an older registry has
    /// none.</remarks>
    public async ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default)
    {
        if (_id is null && await ReadIdAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            using FileLock held = await LockAsync(cancellationToken).ConfigureAwait(false);
            await EnsureIdAsync(cancellationToken).ConfigureAwait(false);
        }

        return _id!;
    }

    /// <inheritdoc />
    public async ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        return await ReadAsync(vmId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        // A record, once written, is only ever replaced (atomically), never removed: a VM the registry knows needs no lock.
        if (await ReadAsync(vmId, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return known;
        }

        using FileLock held = await LockAsync(cancellationToken).ConfigureAwait(false);
        if (await ReadAsync(vmId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var record = new OwnershipRecord(vmId, owner, 1, null, _time.GetUtcNow());
        await EnsureIdAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(record).ConfigureAwait(false);
        return record;
    }

    /// <inheritdoc />
    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        ArgumentException.ThrowIfNullOrEmpty(expectedOwner);
        ArgumentException.ThrowIfNullOrEmpty(newOwner);
        using FileLock held = await LockAsync(cancellationToken).ConfigureAwait(false);
        OwnershipRecord? current = await ReadAsync(vmId, CancellationToken.None).ConfigureAwait(false);
        if (current is null || current.Epoch != expectedEpoch || !string.Equals(current.Owner, expectedOwner, StringComparison.Ordinal))
        {
            return new OwnershipMove(false, current);
        }

        var moved = new OwnershipRecord(vmId, newOwner, expectedEpoch + 1, migrationId, _time.GetUtcNow());
        await EnsureIdAsync(CancellationToken.None).ConfigureAwait(false);
        await WriteAsync(moved).ConfigureAwait(false);
        return new OwnershipMove(true, moved);
    }

    /// <inheritdoc />
    public async ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(journal);
        if (await ReadCheckedAsync(HeadPath(journal), journal, [HeadMagic], cancellationToken).ConfigureAwait(false) is not { } read)
        {
            return null;
        }

        byte[] bytes = read.Json;

        AnchoredHead? anchored;
        try
        {
            anchored = JsonSerializer.Deserialize(bytes, OwnershipJson.Default.AnchoredHead);
        }
        catch (JsonException e)
        {
            throw new OwnershipRegistryException(journal, HeadPath(journal), $"its content is not a journal head ({e.Message})");
        }

        return anchored is not null && string.Equals(anchored.Journal, journal, StringComparison.Ordinal) && anchored.Sequence >= 0
            ? new JournalHead(anchored.Sequence, anchored.Mac)
            : throw new OwnershipRegistryException(journal, HeadPath(journal), "it is the head of another journal or an impossible one");
    }

    /// <inheritdoc />
    public async ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(journal);
        ArgumentNullException.ThrowIfNull(head);
        // Only the journal's own process writes its head, so no registry-wide lock is taken (a lock another host could
        // hold would stall every checkpoint, rollbacks included); this process's writes are ordered here.
        await _headGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await GetHeadAsync(journal, CancellationToken.None).ConfigureAwait(false) is { } anchored &&
                anchored.Sequence >= head.Sequence)
            {
                return;
            }

            byte[] json = JsonSerializer.SerializeToUtf8Bytes(new AnchoredHead(journal, head.Sequence, head.Mac),
                OwnershipJson.Default.AnchoredHead);
            await DurableFile.WriteAtomicallyAsync(HeadPath(journal), Checksummed(HeadMagic, json), CancellationToken.None)
                .ConfigureAwait(false);
        }
        finally
        {
            _headGate.Release();
        }
    }

    /// <summary>Lists the VMs the registry knows.</summary>
    /// <returns>Their ids, in ordinal order.</returns>
    public IReadOnlyList<string> KnownVmIds() => System.IO.Directory.Exists(Directory)
        ? [.. System.IO.Directory.EnumerateFiles(Directory, "*.owner").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Order(StringComparer.Ordinal)]
        : [];

    private string IdPath => Path.Combine(Directory, "registry.id");

    /// <summary>Reads the id into <see cref="_id"/>; <see langword="null"/> when the registry has none yet.</summary>
    private async ValueTask<string?> ReadIdAsync(CancellationToken cancellationToken)
    {
        if (await ReadCheckedAsync(IdPath, "the registry's id", [IdMagic], cancellationToken).ConfigureAwait(false) is not { } read)
        {
            return null;
        }

        string id = System.Text.Encoding.ASCII.GetString(read.Json);
        if (id.Length != 2 * IdBytes || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new OwnershipRegistryException("the registry's id", IdPath, $"it holds no id of {2 * IdBytes} lowercase hex digits");
        }

        return _id = id;
    }

    /// <summary>Gives the registry its id unless it has one; runs under the registry's lock, so hosts sharing it agree.</summary>
    private async ValueTask EnsureIdAsync(CancellationToken cancellationToken)
    {
        if (_id is not null || await ReadIdAsync(cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdBytes));
        await DurableFile.WriteAtomicallyAsync(IdPath, Checksummed(IdMagic, System.Text.Encoding.ASCII.GetBytes(id)),
            CancellationToken.None).ConfigureAwait(false);
        _id = id;
    }

    private string RecordPath(string vmId) => Path.Combine(Directory, vmId + ".owner");

    /// <summary>A journal's head file, named by a hash of the journal's name (which may hold any character).</summary>
    private string HeadPath(string journal) =>
        Path.Combine(Directory, "journal-heads",
            Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(journal)))[..32] + ".head");

    private async Task<FileLock> LockAsync(CancellationToken cancellationToken)
    {
        // The registry's directory may be on shared storage (NFS): its metadata calls block, and must not on a socket's thread.
        await ThreadPoolHop.IfNeeded();
        System.IO.Directory.CreateDirectory(Directory);
        return await FileLock.AcquireAsync(Path.Combine(Directory, ".lock"), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<OwnershipRecord?> ReadAsync(string vmId, CancellationToken cancellationToken)
    {
        string path = RecordPath(vmId);
        (byte[] Magic, byte[] Json)? read = await ReadCheckedAsync(path, vmId, [SignedMagic, PskSealedMagic, Magic],
            cancellationToken).ConfigureAwait(false);
        OwnershipRecord? record;
        if (read is not { } found)
        {
            return null;
        }
        else if (found.Magic == SignedMagic && _keyring is null)
        {
            record = SignedOwnershipRecords.Read(vmId, path, found.Json, _signer?.TrustAnchors, _time.GetUtcNow());
        }
        else if (found.Magic == PskSealedMagic && _keyring is not null)
        {
            record = ReadPskSealed(vmId, path, found.Json, _keyring);
        }
        else if (found.Magic != Magic)
        {
            throw new OwnershipRegistryException(vmId, path, _keyring is null
                ? "it is sealed for a PSK keyring cluster, and this registry was opened without the keyring: open it with this host's " +
                    "keyring"
                : "it is signed with an X.509 key, and this registry belongs to a PSK keyring cluster: a cluster uses one kind of " +
                    "credentials");
        }
        else if (_signer is not null || _keyring is not null)
        {
            throw new OwnershipRegistryException(vmId, path,
                "it is not signed, and this registry takes only records signed by their owner's host key: it was written by something " +
                    "outside the cluster, or before signing was on");
        }
        else
        {
            record = SignedOwnershipRecords.Deserialize<OwnershipRecord>(vmId, path, found.Json, OwnershipJson.Default.OwnershipRecord);
        }

        if (record is null || !string.Equals(record.VmId, vmId, StringComparison.Ordinal) || record.Epoch < 1 ||
            string.IsNullOrEmpty(record.Owner))
        {
            throw new OwnershipRegistryException(vmId, path, "it describes another VM or an impossible epoch");
        }

        return record;
    }

    /// <summary>Reads a PSK-sealed record: the MAC meant for this host must hold, and its writer must be the owner it names.</summary>
    private static OwnershipRecord ReadPskSealed(string vmId, string path, byte[] json, PskKeyringCredentials keyring)
    {
        PskSealedRecord? sealedRecord = SignedOwnershipRecords.Deserialize<PskSealedRecord>(vmId, path, json,
            OwnershipJson.Default.PskSealedRecord);
        if (PskRecordSeal.Check(sealedRecord, keyring) is { } problem)
        {
            throw new OwnershipRegistryException(vmId, path, $"its seal does not hold: {problem}");
        }

        OwnershipRecord record = SignedOwnershipRecords.Deserialize<OwnershipRecord>(vmId, path,
            System.Text.Encoding.UTF8.GetBytes(sealedRecord!.Payload),
            OwnershipJson.Default.OwnershipRecord)
            ?? throw new OwnershipRegistryException(vmId, path, "its sealed payload holds no record");
        if (!string.Equals(sealedRecord.Writer, record.Owner, StringComparison.Ordinal))
        {
            throw new OwnershipRegistryException(vmId, path,
                $"it says '{Text.UntrustedText.Bound(record.Owner, 160)}' owns the VM, but " +
                    $"'{Text.UntrustedText.Bound(sealedRecord.Writer, 160)}' wrote it: only the owner writes its record");
        }

        return record;
    }

    private async ValueTask WriteAsync(OwnershipRecord record)
    {
        string json = JsonSerializer.Serialize(record, OwnershipJson.Default.OwnershipRecord);
        byte[] contents = (_signer, _keyring) switch
        {
            ({ } signer, _) => Checksummed(SignedMagic, SignedOwnershipRecords.Sign(record, signer)),
            (_, { } keyring) => Checksummed(PskSealedMagic, JsonSerializer.SerializeToUtf8Bytes(PskRecordSeal.Seal(json, keyring),
                OwnershipJson.Default.PskSealedRecord)),
            _ => Checksummed(Magic, System.Text.Encoding.UTF8.GetBytes(json)),
        };
        await DurableFile.WriteAtomicallyAsync(RecordPath(record.VmId), contents, CancellationToken.None).ConfigureAwait(false);
    }

    private static byte[] Checksummed(ReadOnlySpan<byte> magic, byte[] json)
    {
        byte[] bytes = new byte[magic.Length + json.Length + ChecksumLength];
        magic.CopyTo(bytes);
        json.CopyTo(bytes, magic.Length);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength), bytes.AsSpan(bytes.Length - ChecksumLength));
        return bytes;
    }

    /// <summary>Reads a checksummed file: which of <paramref name="magics"/> it starts with, and its JSON; <see langword="null"/> when
    /// there is no file.</summary>
    private static async ValueTask<(byte[] Magic, byte[] Json)?> ReadCheckedAsync(string path, string subject, byte[][] magics,
        CancellationToken cancellationToken)
    {
        await ThreadPoolHop.IfNeeded();
        byte[] bytes;
        try
        {
            if (new FileInfo(path) is { Exists: true, Length: > MaxRecordBytes } big)
            {
                throw new OwnershipRegistryException(subject, path, $"the file is {big.Length} bytes, more than a record can be");
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        byte[]? magic = magics.FirstOrDefault(m => bytes.AsSpan().StartsWith(m));
        if (magic is null || bytes.Length < magic.Length + ChecksumLength)
        {
            throw new OwnershipRegistryException(subject, path, "it is not a registry record");
        }

        byte[] expected = SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength));
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(bytes.Length - ChecksumLength)))
        {
            throw new OwnershipRegistryException(subject, path, "its checksum does not match (damaged or edited)");
        }

        return (magic, bytes[magic.Length..^ChecksumLength]);
    }
}
