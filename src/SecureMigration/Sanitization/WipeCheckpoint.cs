using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Identity;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// How far a wipe got, kept where <see cref="WipeCheckpointLocation"/> says (beside a file, in a state directory for a
/// block device; mode 0600) and replaced atomically after the bytes it claims were flushed to disk; a wipe that crashed
/// resumes from it, and the final report still covers every byte. Whoever can write the checkpoint's directory can plant
/// or move one, so it is authenticated with the host key (HMAC-SHA-256) and bound to the target's path, device, inode and
/// size: one that does not verify is ignored and the wipe starts from its first pass. The current random pass's key
/// travels sealed (AES-256-GCM under the host key), never in plaintext. It is deleted when the wipe ends.
/// </summary>
internal sealed record WipeCheckpoint(string Target, long Size, string Identity, string Plan, int Pass, int Chunk, string? SealedKey,
    ulong Nonce,
    DateTimeOffset Started, string? Mac = null)
{
    private const int SealNonceLength = 12;
    private const int TagLength = 16;

    /// <summary>More than any checkpoint takes (a few hundred bytes and the plan's fingerprint).</summary>
    private const int MaxFileBytes = 64 * 1024;

    /// <summary>A fingerprint of what the wipe does (passes and which of them the device zeroes, extents, block size), so a checkpoint
    /// is only used for the same wipe.</summary>
    public static string Fingerprint(IReadOnlyList<SanitizationPass> passes, IReadOnlyList<bool> offloaded, IReadOnlyList<Extent> extents,
        int blockSize)
    {
        var text = new StringBuilder();
        // A pass the device zeroes is another plan than one written: a resumed wipe must not report the one as the other.
        text.Append(blockSize).Append('|').AppendJoin(';', passes.Select((p, i) => offloaded[i] ? p.Name + "@zeroout" : p.Name))
            .Append('|');
        foreach (Extent extent in extents)
        {
            text.Append(extent.Offset).Append(',').Append(extent.Length).Append(';');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Creates a checkpoint authenticated with <paramref name="hostKey"/>, sealing <paramref name="randomKey"/> (if any) under
    /// it.</summary>
    public static WipeCheckpoint Create(HostKey hostKey, string target, long size, string identity, string plan, int pass, int chunk,
        ReadOnlySpan<byte> randomKey,
        ulong nonce, DateTimeOffset started)
    {
        string? sealedKey = null;
        if (!randomKey.IsEmpty)
        {
            byte[] sealKey = hostKey.DeriveSubkey("wipe checkpoint seal");
            try
            {
                byte[] box = new byte[SealNonceLength + randomKey.Length + TagLength];
                RandomNumberGenerator.Fill(box.AsSpan(0, SealNonceLength));
                using var aes = new AesGcm(sealKey, TagLength);
                aes.Encrypt(box.AsSpan(0, SealNonceLength), randomKey, box.AsSpan(SealNonceLength, randomKey.Length),
                    box.AsSpan(SealNonceLength + randomKey.Length),
                    Encoding.UTF8.GetBytes(target + "\n" + identity));
                sealedKey = Convert.ToBase64String(box);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(sealKey);
            }
        }

        var unsigned = new WipeCheckpoint(target, size, identity, plan, pass, chunk, sealedKey, nonce, started);
        return unsigned with { Mac = Convert.ToBase64String(unsigned.ComputeMac(hostKey)) };
    }

    /// <summary>
    /// Loads the checkpoint in <paramref name="file"/> when it verifies under <paramref name="hostKey"/> and was left
    /// by this very wipe of this very file (path, identity, size, plan); <see langword="null"/> otherwise.
    /// </summary>
    public static WipeCheckpoint? Load(HostKey hostKey, string file, string target, long size, string identity, string plan)
    {
        if (ReadSmallFile(file) is not { } bytes)
        {
            return null;
        }

        try
        {
            WipeCheckpoint? checkpoint = JsonSerializer.Deserialize(bytes, WipeCheckpointJson.Default.WipeCheckpoint);
            return checkpoint is { Mac: { } mac } && CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(mac),
                (checkpoint with { Mac = null }).ComputeMac(hostKey)) &&
                checkpoint.Target == target && checkpoint.Size == size && checkpoint.Identity == identity && checkpoint.Plan == plan &&
                    checkpoint.Pass >= 0 && checkpoint.Chunk >= 0
                ? checkpoint
                : null;
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The checkpoint file's bytes, or <see langword="null"/> when there is none or it cannot be one. Whoever can write its
    /// directory may plant a symbolic link (to <c>/dev/zero</c>), a FIFO (a read waits for a writer forever) or a huge file:
    /// the file is opened without following a link and without waiting, and at most <see cref="MaxFileBytes"/> are read.
    /// </summary>
    private static byte[]? ReadSmallFile(string file)
    {
        if (!Posix.IsSupported)
        {
            return new FileInfo(file) is { Exists: true, Length: <= MaxFileBytes } ? File.ReadAllBytes(file) : null;
        }

        try
        {
            using SafeFileHandle? handle = NoFollowFile.TryOpen(file, Posix.ReadOnlyCloseOnExec | Posix.NonBlocking, null, out _);
            if (handle is null)
            {
                return null;
            }

            byte[] buffer = new byte[MaxFileBytes + 1];
            int read = 0;
            for (int n; read < buffer.Length && (n = RandomAccess.Read(handle, buffer.AsSpan(read), read)) > 0;)
            {
                read += n;
            }

            return read > MaxFileBytes ? null : buffer[..read];
        }
        catch (Exception e) when (e is SymbolicLinkRefusedException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Opens the sealed random key; the caller wipes it. <see langword="null"/> when there is none or it does not open.</summary>
    public byte[]? UnsealKey(HostKey hostKey)
    {
        if (SealedKey is null)
        {
            return null;
        }

        byte[] box = Convert.FromBase64String(SealedKey);
        if (box.Length <= SealNonceLength + TagLength)
        {
            return null;
        }

        byte[] sealKey = hostKey.DeriveSubkey("wipe checkpoint seal");
        byte[] key = new byte[box.Length - SealNonceLength - TagLength];
        try
        {
            using var aes = new AesGcm(sealKey, TagLength);
            aes.Decrypt(box.AsSpan(0, SealNonceLength), box.AsSpan(SealNonceLength, key.Length), box.AsSpan(SealNonceLength + key.Length),
                key,
                Encoding.UTF8.GetBytes(Target + "\n" + Identity));
            return key;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(key);
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sealKey);
        }
    }

    public ValueTask SaveAsync(string file) =>
        DurableFile.WriteAtomicallyAsync(file, JsonSerializer.SerializeToUtf8Bytes(this,
            WipeCheckpointJson.Default.WipeCheckpoint), CancellationToken.None, ownerOnly: true);

    /// <summary>Deletes the checkpoint in <paramref name="file"/>, if any, never through a symbolic link.</summary>
    public static void Delete(string file) => NoFollowFile.Delete(file, null);

    /// <summary>HMAC-SHA-256 over every field but the MAC itself, under a subkey of the host key.</summary>
    private byte[] ComputeMac(HostKey hostKey)
    {
        byte[] macKey = hostKey.DeriveSubkey("wipe checkpoint mac");
        try
        {
            return HMACSHA256.HashData(macKey, JsonSerializer.SerializeToUtf8Bytes(this with { Mac = null },
                WipeCheckpointJson.Default.WipeCheckpoint));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }
}

/// <summary>Source-generated JSON for checkpoints.</summary>
[JsonSerializable(typeof(WipeCheckpoint))]
internal sealed partial class WipeCheckpointJson : JsonSerializerContext;
