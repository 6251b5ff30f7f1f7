using CsCheck;
using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

/// <summary>
/// A target's size, its extents in the order a caller might give them, and a block size to plan a wipe in. Most
/// samples are valid lists of several extents, some touching, many a byte either side of the 4 KiB alignment; the
/// rest are such a list with one <see cref="Flaw"/> that <see cref="ExtentList.Validate"/> must refuse.
/// </summary>
internal sealed record ExtentPlanSample(long Size, Extent[] Extents, int BlockSize, string? Flaw)
{
    private const int Alignment = 4096;

    /// <summary>Byte counts up to about 3 MB: anywhere, or on the alignment give or take a byte, where heads and tails appear and
    /// vanish.</summary>
    private static readonly Gen<long> Bytes = Gen.OneOf(
        Gen.Long[1, 3_000_000],
        Gen.Select(Gen.Int[1, 700], Gen.Int[-1, 1], (blocks, nudge) => (blocks * (long)Alignment) + nudge));

    /// <summary>The space before an extent: none at all, so it touches the one before, a quarter of the time.</summary>
    private static readonly Gen<long> Gap = Gen.Frequency((1, Gen.Const(0L)), (3, Bytes));

    /// <summary>One to twenty extents laid out one after another, shuffled, in a target that may run on past the last.</summary>
    private static readonly Gen<ExtentPlanSample> Valid = Gen.Select(
        Gen.Select(Gap, Bytes, Gen.Int).Array[1, 20], Gen.Long[0, 5_000_000], Gen.Int[1, 64],
        (layout, slack, blocks) =>
        {
            var placed = new (Extent Extent, int Order)[layout.Length];
            long end = 0;
            for (int i = 0; i < layout.Length; i++)
            {
                (long gap, long length, int order) = layout[i];
                placed[i] = (new Extent(end + gap, length), order);
                end += gap + length;
            }

            return new ExtentPlanSample(end + slack, [.. placed.OrderBy(p => p.Order).Select(p => p.Extent)], blocks * Alignment,
                Flaw: null);
        });

    /// <summary>A valid list spoiled in one of four ways, at an extent drawn at random.</summary>
    private static readonly Gen<ExtentPlanSample> Flawed = Gen.Select(Valid, Gen.Int[0, 3], Gen.Int[0, int.MaxValue], (valid, flaw,
        pick) => valid.Spoiled(flaw, pick));

    /// <summary>Gets nine valid samples for one flawed one.</summary>
    public static Gen<ExtentPlanSample> Any { get; } = Gen.Frequency((9, Valid), (1, Flawed));

    /// <summary>Shows the extents too, so a failing sample can be read back.</summary>
    public override string ToString() =>
        $"{Flaw ?? "valid"}: {Size}-byte target, {BlockSize}-byte blocks, extents " +
            $"{string.Join(", ", Extents.Select(e => $"{e.Offset}+{e.Length}"))}";

    private ExtentPlanSample Spoiled(int flaw, int pick)
    {
        Extent[] extents = [.. Extents];
        int i = pick % extents.Length;
        Extent victim = extents[i];
        switch (flaw)
        {
            case 0:
                extents[i] = victim with { Length = 0 };
                return this with { Extents = extents, Flaw = "an empty extent" };
            case 1:
                extents[i] = victim with { Offset = -1 - (pick % Alignment) };
                return this with { Extents = extents, Flaw = "an extent before the start" };
            case 2:
                Extent last = extents.MaxBy(e => e.End);
                return this with { Size = last.End - 1 - (pick % last.Length), Flaw = "a target that ends inside its last extent" };
            default:
                var overlapping = new Extent(victim.Offset + (pick % victim.Length), 1 + (pick % Alignment));
                return this with { Extents = [.. extents, overlapping], Flaw = "an extent overlapping another" };
        }
    }
}
