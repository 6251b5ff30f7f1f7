using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// How far a wipe got, kept next to the target (<c>TARGET.secmig-wipe</c>, mode 0600) and replaced atomically after
/// the bytes it claims were flushed to disk; a wipe that crashed resumes from it, and the final report still covers
/// every byte. It holds the current random pass's key, so a resumed pass writes and verifies the same stream; it is
/// deleted when the wipe ends.
/// </summary>
internal sealed record WipeCheckpoint(string Target, long Size, string Plan, int Pass, int Chunk, string? Key, ulong Nonce, DateTimeOffset Started)
{
    public static string PathFor(string target) => target + ".secmig-wipe";

    /// <summary>A fingerprint of what the wipe does (passes, extents, block size), so a checkpoint is only used for the same wipe.</summary>
    public static string Fingerprint(IReadOnlyList<SanitizationPass> passes, IReadOnlyList<Extent> extents, int blockSize)
    {
        var text = new StringBuilder();
        text.Append(blockSize).Append('|').AppendJoin(';', passes.Select(p => p.Name)).Append('|');
        foreach (Extent extent in extents)
        {
            text.Append(extent.Offset).Append(',').Append(extent.Length).Append(';');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static WipeCheckpoint? Load(string target, long size, string plan)
    {
        string path = PathFor(target);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            WipeCheckpoint? checkpoint = JsonSerializer.Deserialize(File.ReadAllBytes(path), WipeCheckpointJson.Default.WipeCheckpoint);
            return checkpoint is not null && checkpoint.Target == target && checkpoint.Size == size && checkpoint.Plan == plan && checkpoint.Pass >= 0 && checkpoint.Chunk >= 0
                ? checkpoint
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public ValueTask SaveAsync() =>
        DurableFile.WriteAtomicallyAsync(PathFor(Target), JsonSerializer.SerializeToUtf8Bytes(this, WipeCheckpointJson.Default.WipeCheckpoint), CancellationToken.None, ownerOnly: true);

    public static void Delete(string target) => File.Delete(PathFor(target));
}

/// <summary>Source-generated JSON for checkpoints.</summary>
[JsonSerializable(typeof(WipeCheckpoint))]
internal sealed partial class WipeCheckpointJson : JsonSerializerContext;
