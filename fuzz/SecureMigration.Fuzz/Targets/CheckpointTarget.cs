using System.Buffers.Binary;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The sanitizer's checkpoint file (<see cref="WipeCheckpoint"/>), as a file target keeps it (<c>TARGET.secmig-wipe</c>).
/// Input: <c>MODE REST</c>; MODE 0 loads REST as the checkpoint file; MODE 1 creates a real checkpoint from
/// <c>PASS(2) CHUNK(2) NONCE(8) KEY</c>, saves it and loads it. Invariants: no exception (a bad checkpoint is ignored);
/// a loaded checkpoint is for this very wipe; a saved one loads back equal and unseals its random key; bounded allocation.
/// </summary>
internal sealed class CheckpointTarget : FuzzTarget
{
    private const long Size = 1 << 20;
    private const string Identity = "64769:1234";
    private const string Plan = "0f3c";
    private static readonly HostKey Key = HostKey.FromSecret([.. Enumerable.Range(21, 32).Select(i => (byte)i)]);

    public override string Name => "checkpoint";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        string target = ScratchFolder.Fresh("wipe-target");
        string file = target + WipeCheckpointLocation.Suffix;
        File.Delete(file);
        WipeCheckpoint? saved = null;
        byte[] randomKey = [];
        if ((fields.Byte() & 1) == 0)
        {
            File.WriteAllBytes(file, fields.Rest.ToArray());
        }
        else
        {
            int pass = fields.UInt16();
            int chunk = fields.UInt16();
            ulong nonce = BinaryPrimitives.ReadUInt64BigEndian([.. fields.Bytes(8), .. new byte[8]]);
            randomKey = fields.Rest.ToArray();
            saved = WipeCheckpoint.Create(Key, target, Size, Identity, Plan, pass, chunk, randomKey, nonce,
                DateTimeOffset.FromUnixTimeSeconds(1_790_000_000));
            saved.SaveAsync(file).AsTask().GetAwaiter().GetResult();
        }

        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 64);
        WipeCheckpoint? loaded = WipeCheckpoint.Load(Key, file, target, Size, Identity, Plan);
        byte[]? unsealed = loaded?.UnsealKey(Key);
        budget.Check("Loading the checkpoint");
        InvariantViolationException.Check(
            loaded is null || (loaded.Target == target && loaded.Size == Size && loaded.Identity == Identity && loaded.Plan == Plan),
            "a checkpoint of another wipe was loaded");
        if (saved is not null)
        {
            InvariantViolationException.Check(loaded == saved, "a saved checkpoint does not load back equal");
            InvariantViolationException.Check(
                randomKey.Length == 0 ? unsealed is null : unsealed is not null && unsealed.SequenceEqual(randomKey),
                "a saved checkpoint does not unseal its random key");
        }
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        string target = ScratchFolder.Fresh("wipe-target");
        string file = target + WipeCheckpointLocation.Suffix;
        WipeCheckpoint.Create(Key, target, Size, Identity, Plan, 1, 17, [.. Enumerable.Range(0, 32).Select(i => (byte)i)], 99,
            DateTimeOffset.FromUnixTimeSeconds(1_790_000_000)).SaveAsync(file).AsTask().GetAwaiter().GetResult();
        yield return ("saved-file", [0, .. File.ReadAllBytes(file)]);
        yield return ("create-with-key", [1, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, .. Enumerable.Range(0, 32).Select(i => (byte)i)]);
        yield return ("create-without-key", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    }
}
