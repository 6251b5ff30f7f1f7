using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SecureMigration.Audit;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Identity;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// Audit log lines (<see cref="AuditLog.Verify"/>). Input: <c>MODE REST</c>; MODE 0 gives each line of REST its
/// valid MAC (so the fuzzer reaches the JSON and the chain checks), MODE 1 is the file as it is. Invariants: no
/// exception (a bad log is a verdict, not a throw); an intact verdict names no problem and a broken one does; every
/// entry read serializes and deserializes back to itself; bounded allocation.
/// </summary>
internal sealed class AuditTarget : FuzzTarget
{
    private static readonly HostKey Key = HostKey.FromSecret([.. Enumerable.Range(9, 32).Select(i => (byte)i)]);
    private static readonly byte[] MacKey = Key.DeriveSubkey("audit");

    public override string Name => "audit";

    public override void Run(byte[] input)
    {
        string path = ScratchFolder.Fresh("audit.log");
        File.WriteAllBytes(path, Log(input));
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 64);
        AuditVerification verdict = AuditLog.Verify(path, Key);
        budget.Check("Verifying the audit log");
        InvariantViolationException.Check(verdict.IsIntact == verdict.Problem is null, "the verdict and its problem disagree");
        foreach (AuditEntry entry in verdict.Entries)
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(entry, AuditJson.Default.AuditEntry);
            AuditEntry? again = JsonSerializer.Deserialize(json, AuditJson.Default.AuditEntry);
            InvariantViolationException.Check(again == entry, $"audit entry {entry.Sequence} does not serialize back to itself");
        }
    }

    private static byte[] Log(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty || (input[0] & 1) == 1)
        {
            return input.IsEmpty ? [] : input[1..].ToArray();
        }

        var log = new List<byte>();
        foreach (Range line in input[1..].Split((byte)'\n'))
        {
            ReadOnlySpan<byte> json = input[1..][line];
            log.AddRange(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(MacKey, json)) + " "));
            log.AddRange(json);
            log.Add((byte)'\n');
        }

        return [.. log];
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // Real lines, written by the audit log itself.
        string path = ScratchFolder.Fresh("audit-seed.log");
        using (AuditLog log = AuditLog.Open(path, "source.test", Key))
        {
            var id = Guid.Parse("1f7e3a4c-0b9d-4e2f-8a61-7c5d2e9b3f40");
            log.AppendAsync(id, "vm-7", "ticket-issued", "to destination.test, epoch 3").AsTask().GetAwaiter().GetResult();
            log.AppendAsync(id, "vm-7", "migration-committed").AsTask().GetAwaiter().GetResult();
            log.AppendAsync(null, null, "handshake-refused", "peer 'rogue' \"quoted\"").AsTask().GetAwaiter().GetResult();
        }

        byte[] file = File.ReadAllBytes(path);
        // Each line is "HMAC(64 hex) JSON": keep the JSON.
        IEnumerable<byte> json = Encoding.UTF8.GetString(file).TrimEnd('\n').Split('\n')
            .SelectMany(line => Encoding.UTF8.GetBytes(line[65..] + "\n"));
        yield return ("entries", [0, .. json.SkipLast(1)]);
        yield return ("file", [1, .. file]);
    }
}
