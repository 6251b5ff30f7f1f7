using System.Buffers.Binary;
using System.Security.Cryptography;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Identity;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// The migration journal's file format (<see cref="JournalCodec"/> through <see cref="MigrationJournal.Read"/>).
/// Input: <c>MODE REST</c>; after a real header, MODE 0 frames each line of REST as a record with a valid MAC chain
/// (so the fuzzer reaches the JSON and the phase checks), MODE 1 appends REST as it is. Invariants: only
/// <see cref="JournalCorruptedException"/>; every record read encodes and decodes back to itself; bounded allocation.
/// </summary>
internal sealed class JournalTarget : FuzzTarget
{
    private static readonly HostKey Key = HostKey.FromSecret([.. Enumerable.Range(3, 32).Select(i => (byte)i)]);
    private static readonly byte[] MacKey = Key.DeriveSubkey("journal");

    public override string Name => "journal";

    public override void Run(byte[] input)
    {
        string path = ScratchFolder.Fresh("journal");
        File.WriteAllBytes(path, Journal(input));
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 64);
        try
        {
            (IReadOnlyList<JournalRecord> records, _) = MigrationJournal.Read(path, Key);
            byte[] previous = new byte[JournalCodec.MacLength];
            foreach (JournalRecord record in records)
            {
                byte[] encoded = JournalCodec.Encode(record, MacKey, previous);
                JournalCodec.ReadOutcome outcome = JournalCodec.TryRead(encoded, MacKey, previous, out JournalRecord? again, out _);
                InvariantViolationException.Check(outcome == JournalCodec.ReadOutcome.Record && again == record,
                    $"journal record {record.Sequence} does not encode and decode back to itself");
            }
        }
        catch (JournalCorruptedException)
        {
            // The documented refusal.
        }

        budget.Check("Reading the journal");
    }

    private static byte[] Journal(ReadOnlySpan<byte> input)
    {
        byte[] header = JournalCodec.NewHeader(MacKey);
        var journal = new List<byte>(header);
        if (input.IsEmpty || (input[0] & 1) == 1)
        {
            journal.AddRange(input.IsEmpty ? [] : input[1..]);
            return [.. journal];
        }

        byte[] previous = JournalCodec.ChainSeed(header);
        foreach (Range line in input[1..].Split((byte)'\n'))
        {
            ReadOnlySpan<byte> json = input[1..][line];
            byte[] record = new byte[sizeof(uint) + json.Length + JournalCodec.MacLength];
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)json.Length);
            json.CopyTo(record.AsSpan(sizeof(uint)));
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, MacKey);
            hmac.AppendData(previous);
            hmac.AppendData(record.AsSpan(0, sizeof(uint) + json.Length));
            previous = hmac.GetHashAndReset();
            previous.CopyTo(record, sizeof(uint) + json.Length);
            journal.AddRange(record);
        }

        return [.. journal];
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // Real records, written by the journal itself.
        string path = ScratchFolder.Fresh("journal-seed");
        using (MigrationJournal journal = MigrationJournal.Open(path, Key))
        {
            var id = Guid.Parse("6f1d0c77-98a4-4c35-9d0e-2b7a34b1e0a1");
            foreach (MigrationPhase phase in new[] { MigrationPhase.Admitted, MigrationPhase.Snapshotted, MigrationPhase.RollingBack })
            {
                journal.AppendAsync(new JournalRecord
                {
                    MigrationId = id, Role = MigrationRole.Source, Phase = phase, VmId = "vm-7", SourceHost = "source.test",
                    DestinationHost = "destination.test", Epoch = 3,
                    Reason = phase == MigrationPhase.RollingBack ? "the destination refused the ticket" : null,
                }).AsTask().GetAwaiter().GetResult();
            }
        }

        byte[] file = File.ReadAllBytes(path);
        var lines = new List<byte>();
        int offset = JournalCodec.HeaderLength;
        while (offset < file.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset));
            lines.AddRange(file.AsSpan(offset + sizeof(uint), length));
            lines.Add((byte)'\n');
            offset += sizeof(uint) + length + JournalCodec.MacLength;
        }

        yield return ("records", [0, .. lines.SkipLast(1)]);
        yield return ("raw-tail", [1, .. file.AsSpan(JournalCodec.HeaderLength, 40)]);
    }
}
