using System.Security.Cryptography;
using System.Text.Json;
using SecureMigration.Storage;

namespace SecureMigration.Coordination;

/// <summary>
/// An ownership registry in a directory: one checksummed file per VM, replaced atomically, and every
/// compare-and-swap under an exclusive lock file, so processes sharing the directory (both hosts of a demo, or hosts
/// on a shared file system) see one order of changes.
/// </summary>
public sealed class FileOwnershipRegistry : IOwnershipRegistry
{
    private const int ChecksumLength = 32;
    private const int MaxRecordBytes = 4096;
    private static ReadOnlySpan<byte> Magic => "SMOWN1\n"u8;

    private readonly TimeProvider _time;

    /// <summary>Creates a registry kept in <paramref name="directory"/> (created on first write).</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="timeProvider">The clock that stamps changes, or <see langword="null"/> for the system clock.</param>
    public FileOwnershipRegistry(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the registry's directory.</summary>
    public string Directory { get; }

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
        using FileLock held = await LockAsync(cancellationToken).ConfigureAwait(false);
        if (await ReadAsync(vmId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }

        var record = new OwnershipRecord(vmId, owner, 1, null, _time.GetUtcNow());
        await WriteAsync(record).ConfigureAwait(false);
        return record;
    }

    /// <inheritdoc />
    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner, Guid migrationId, CancellationToken cancellationToken = default)
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
        await WriteAsync(moved).ConfigureAwait(false);
        return new OwnershipMove(true, moved);
    }

    /// <summary>Lists the VMs the registry knows.</summary>
    /// <returns>Their ids, in ordinal order.</returns>
    public IReadOnlyList<string> KnownVmIds() => System.IO.Directory.Exists(Directory)
        ? [.. System.IO.Directory.EnumerateFiles(Directory, "*.owner").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)]
        : [];

    private string RecordPath(string vmId) => Path.Combine(Directory, vmId + ".owner");

    private async Task<FileLock> LockAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return await FileLock.AcquireAsync(Path.Combine(Directory, ".lock"), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<OwnershipRecord?> ReadAsync(string vmId, CancellationToken cancellationToken)
    {
        string path = RecordPath(vmId);
        byte[] bytes;
        try
        {
            if (new FileInfo(path) is { Exists: true, Length: > MaxRecordBytes } big)
            {
                throw new OwnershipRegistryException(vmId, path, $"the file is {big.Length} bytes, more than a record can be");
            }

            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (bytes.Length < Magic.Length + ChecksumLength || !bytes.AsSpan().StartsWith(Magic))
        {
            throw new OwnershipRegistryException(vmId, path, "it is not an ownership record");
        }

        Span<byte> expected = stackalloc byte[ChecksumLength];
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(bytes.Length - ChecksumLength)))
        {
            throw new OwnershipRegistryException(vmId, path, "its checksum does not match (damaged or edited)");
        }

        OwnershipRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(bytes.AsSpan(Magic.Length, bytes.Length - Magic.Length - ChecksumLength), OwnershipJson.Default.OwnershipRecord);
        }
        catch (JsonException e)
        {
            throw new OwnershipRegistryException(vmId, path, $"its content is not a record ({e.Message})");
        }

        if (record is null || !string.Equals(record.VmId, vmId, StringComparison.Ordinal) || record.Epoch < 1 || string.IsNullOrEmpty(record.Owner))
        {
            throw new OwnershipRegistryException(vmId, path, "it describes another VM or an impossible epoch");
        }

        return record;
    }

    private async ValueTask WriteAsync(OwnershipRecord record)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(record, OwnershipJson.Default.OwnershipRecord);
        byte[] bytes = new byte[Magic.Length + json.Length + ChecksumLength];
        Magic.CopyTo(bytes);
        json.CopyTo(bytes, Magic.Length);
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength), bytes.AsSpan(bytes.Length - ChecksumLength));
        await DurableFile.WriteAtomicallyAsync(RecordPath(record.VmId), bytes, CancellationToken.None).ConfigureAwait(false);
    }
}
