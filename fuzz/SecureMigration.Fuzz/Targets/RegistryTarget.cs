using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Fuzz.Peer;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// Ownership registry files (<see cref="FileOwnershipRegistry"/>): SMOWN1 records, SMOWN2 signed records and
/// SMHEAD1 journal heads. Input: <c>MODE REST</c>; MODE 0 and 1 read REST as the record of VM <c>vm-1</c> (1: in a
/// registry that signs, so REST is a signed envelope), 2 as the head of journal <c>j</c>, each framed with its magic
/// and a valid checksum (so the fuzzer reaches the JSON); MODE 3 reads REST as the record file as it is; MODE 4 as the
/// registry's id (<c>registry.id</c>, SMREGID1, checksummed). Invariants: only <see cref="OwnershipRegistryException"/>;
/// a record read is the asked VM's with an epoch of 1 or more and an owner, and serializes back to itself; an id read is
/// 32 lowercase hex digits; bounded allocation.
/// </summary>
internal sealed class RegistryTarget : FuzzTarget
{
    private const string VmId = "vm-1";
    private const string Journal = "j";

    public override string Name => "registry";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        int mode = fields.Byte() % 5;
        string directory = ScratchFolder.Fresh("registry");
        var registry = new FileOwnershipRegistry(directory, signer: mode == 1 ? FuzzCluster.Instance.SourceCredentials : null);
        registry.RegisterAsync("other-vm", "source.test").AsTask().GetAwaiter().GetResult();
        byte[] content = mode switch
        {
            0 => Checksummed("SMOWN1\n"u8, fields.Rest),
            1 => Checksummed("SMOWN2\n"u8, fields.Rest),
            2 => Checksummed("SMHEAD1\n"u8, fields.Rest),
            4 => Checksummed("SMREGID1\n"u8, fields.Rest),
            _ => fields.Rest.ToArray(),
        };
        File.WriteAllBytes(mode switch
        {
            2 => HeadPath(directory),
            4 => Path.Combine(directory, "registry.id"),
            _ => Path.Combine(directory, VmId + ".owner"),
        }, content);
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 64);
        try
        {
            if (mode == 4)
            {
                // A registry opened now, which has not read the id before.
                string id = new FileOwnershipRegistry(directory).GetIdAsync().AsTask().GetAwaiter().GetResult();
                InvariantViolationException.Check(id.Length == 32 && id.All(char.IsAsciiHexDigitLower), "an impossible registry id was " +
                    "believed");
            }
            else if (mode == 2)
            {
                JournalHead? head = registry.GetHeadAsync(Journal).AsTask().GetAwaiter().GetResult();
                InvariantViolationException.Check(head is { Sequence: >= 0 }, "a journal head was read with a negative sequence");
            }
            else
            {
                OwnershipRecord? record = registry.GetAsync(VmId).AsTask().GetAwaiter().GetResult();
                InvariantViolationException.Check(record is { VmId: VmId, Epoch: >= 1, Owner.Length: > 0 },
                    "an impossible ownership record was believed");
                string json = JsonSerializer.Serialize(record, OwnershipJson.Default.OwnershipRecord);
                OwnershipRecord? again = JsonSerializer.Deserialize(json, OwnershipJson.Default.OwnershipRecord);
                InvariantViolationException.Check(again == record, "an ownership record does not serialize back to itself");
            }
        }
        catch (OwnershipRegistryException)
        {
            // The documented refusal.
        }

        budget.Check("Reading the registry");
    }

    private static byte[] Checksummed(ReadOnlySpan<byte> magic, ReadOnlySpan<byte> json)
    {
        byte[] body = [.. magic, .. json];
        return [.. body, .. SHA256.HashData(body)];
    }

    /// <summary>Where the registry keeps journal <c>j</c>'s head (a hash of its name).</summary>
    private static string HeadPath(string directory)
    {
        string folder = Directory.CreateDirectory(Path.Combine(directory, "journal-heads")).FullName;
        return Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Journal)))[..32] + ".head");
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // Real files, written by the registry itself.
        foreach ((byte mode, string name) in new[] { ((byte)0, "record"), ((byte)1, "signed-record") })
        {
            string directory = ScratchFolder.Fresh("registry-seed");
            var registry = new FileOwnershipRegistry(directory, signer: mode == 1 ? FuzzCluster.Instance.SourceCredentials : null);
            registry.RegisterAsync(VmId, "source.test").AsTask().GetAwaiter().GetResult();
            byte[] file = File.ReadAllBytes(Path.Combine(directory, VmId + ".owner"));
            yield return (name, [mode, .. file.AsSpan(7, file.Length - 7 - 32)]);
            if (mode == 0)
            {
                yield return ("raw-record", [3, .. file]);
                var head4 = new JournalHead(4, Convert.ToHexStringLower(new byte[32]));
                registry.AnchorHeadAsync(Journal, head4).AsTask().GetAwaiter().GetResult();
                byte[] head = File.ReadAllBytes(HeadPath(directory));
                yield return ("head", [2, .. head.AsSpan(8, head.Length - 8 - 32)]);
                byte[] id = File.ReadAllBytes(Path.Combine(directory, "registry.id"));
                yield return ("id", [4, .. id.AsSpan(9, id.Length - 9 - 32)]);
            }
        }
    }
}
