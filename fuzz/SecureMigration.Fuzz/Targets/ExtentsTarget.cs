using System.Text;
using SecureMigration.Sanitization;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// Extent lists (<see cref="ExtentList"/>). Input: <c>SIZE(2) TEXT</c>: TEXT is parsed, then checked against a
/// target of SIZE KiB. Invariants: only <see cref="FormatException"/> from parsing and <see cref="ArgumentException"/>
/// from the check; parsed extents written back as text parse to the same list; checked extents are sorted, inside
/// the target and apart; bounded allocation.
/// </summary>
internal sealed class ExtentsTarget : FuzzTarget
{
    public override string Name => "extents";

    public override void Run(byte[] input)
    {
        var fields = new FuzzInput(input);
        long size = fields.UInt16() * 1024L;
        string text = Encoding.UTF8.GetString(fields.Rest);
        var budget = AllocationBudget.Start(input.Length, fixedBytes: 1 << 20, perInputByte: 256);
        IReadOnlyList<Extent> extents;
        try
        {
            extents = ExtentList.Parse(text);
        }
        catch (FormatException)
        {
            return;
        }

        string written = string.Join('\n', extents.Select(e => FormattableString.Invariant($"{e.Offset} {e.Length}")));
        InvariantViolationException.Check(ExtentList.Parse(written).SequenceEqual(extents),
            "parsed extents do not write and parse back to themselves");
        try
        {
            IReadOnlyList<Extent> valid = ExtentList.Validate(extents, size);
            for (int i = 0; i < valid.Count; i++)
            {
                Extent e = valid[i];
                bool apart = i == 0 || valid[i - 1].End <= e.Offset;
                InvariantViolationException.Check(e.Offset >= 0 && e.Length > 0 && e.End <= size && apart,
                    $"the checked extent at {e.Offset} of {e.Length} bytes is outside the target or overlaps");
            }
        }
        catch (ArgumentException)
        {
            // The documented refusal.
        }

        budget.Check("Reading the extents");
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        yield return ("decimal-and-hex", [0, 64, .. "# wiped regions\n0 4096\n0x2000,0x1000\n\n16384\t8192\n"u8]);
        yield return ("overlap", [0, 8, .. "0 4096\n2048 4096\n"u8]);
    }
}
