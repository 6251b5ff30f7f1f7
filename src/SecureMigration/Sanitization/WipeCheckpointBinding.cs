using System.Security.Cryptography;
using SecureMigration.Identity;

namespace SecureMigration.Sanitization;

/// <summary>
/// What a wipe's checkpoints are bound to (the file it holds open and the plan) and authenticated with (the host key);
/// no checkpoints without a key. Loads the checkpoint an interrupted wipe left, and saves the next ones.
/// </summary>
internal sealed record WipeCheckpointBinding(HostKey? Key, string File, string Target, long Size, string Identity, string Plan,
    DateTimeOffset Started)
{
    /// <summary>
    /// The checkpoint of an interrupted wipe of the same file with the same plan, trusted only under <paramref name="key"/>,
    /// and the keystream of its random pass; <see langword="null"/> (start from the first pass) when there is none, or
    /// when its random pass's key cannot be unsealed.
    /// </summary>
    public static WipeCheckpoint? Load(HostKey? key, string file, string target, long size, string identity, string plan,
        out AesCtrKeystream? keystream)
    {
        keystream = null;
        WipeCheckpoint? resumed = key is null ? null : WipeCheckpoint.Load(key, file, target, size, identity, plan);
        if (resumed?.SealedKey is not null)
        {
            byte[]? savedKey = resumed.UnsealKey(key!);
            keystream = savedKey is null ? null : new AesCtrKeystream(savedKey, resumed.Nonce);
            resumed = keystream is null ? null : resumed;
            CryptographicOperations.ZeroMemory(savedKey);
        }

        return resumed;
    }

    /// <summary>
    /// Flushes the writes so far to disk, then records that the wipe may resume at <paramref name="chunk"/> of <paramref name="pass"/>.
    /// </summary>
    public async ValueTask SaveAsync(WipeHandles handles, int pass, int chunk, AesCtrKeystream? keystream)
    {
        handles.Flush();
        byte[]? key = keystream?.ExportKey();
        try
        {
            await WipeCheckpoint.Create(Key!, Target, Size, Identity, Plan, pass, chunk, key, keystream?.Nonce ?? 0, Started)
                .SaveAsync(File).ConfigureAwait(false);
        }
        finally
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }
}
