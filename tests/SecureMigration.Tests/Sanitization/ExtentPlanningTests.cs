using CsCheck;
using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

public sealed class ExtentPlanningTests
{
    /// <summary>
    /// Valid lists must be accepted, sorted, and planned exactly; flawed ones refused. The sample counts at the end keep
    /// the generator honest: most samples reach the planner, most with several extents, and some are refused.
    /// </summary>
    [Fact]
    public void Plan_AnyExtents_CoversValidOnesExactlyWithAlignedDirectChunksOfAtMostABlockAndCountsTheBytesBefore_AndRefusesFlawedOnes()
    {
        int planned = 0;
        int plannedWithSeveralExtents = 0;
        int refused = 0;

        ExtentPlanSample.Any.Sample(sample =>
        {
            if (sample.Flaw is not null)
            {
                Assert.Throws<ArgumentException>(() => ExtentList.Validate(sample.Extents, sample.Size));
                Interlocked.Increment(ref refused);
                return;
            }

            IReadOnlyList<Extent> extents = ExtentList.Validate(sample.Extents, sample.Size);
            Assert.Equal(sample.Extents.OrderBy(e => e.Offset), extents);
            AssertPlanCoversExactly(extents, sample.BlockSize);
            Interlocked.Increment(ref planned);
            if (extents.Count >= 2)
            {
                Interlocked.Increment(ref plannedWithSeveralExtents);
            }
        }, iter: 500);

        int samples = planned + refused;
        Assert.True(planned * 10 >= samples * 8, $"only {planned} of {samples} samples were valid plans");
        Assert.True(plannedWithSeveralExtents * 2 >= samples, $"only {plannedWithSeveralExtents} of {samples} samples were valid plans " +
            $"of two or more extents");
        Assert.True(refused * 50 >= samples, $"only {refused} of {samples} samples were flawed lists to refuse");
    }

    [Fact]
    public void Validate_OverlapOrOutside_IsAlwaysRefused()
    {
        Gen.Select(Gen.Long[1, 1_000_000], Gen.Long[-10, 1_000_010], Gen.Long[-10, 1_000_010]).Sample((size, offset, length) =>
        {
            bool valid = offset >= 0 && length > 0 && offset + length <= size;
            if (valid)
            {
                Assert.Single(ExtentList.Validate([new Extent(offset, length)], size));
            }
            else
            {
                Assert.Throws<ArgumentException>(() => ExtentList.Validate([new Extent(offset, length)], size));
            }
        }, iter: 500);
    }

    [Fact]
    public void Parse_TextFromAnyExtents_RoundTrips()
    {
        Gen.Select(Gen.Long[0, long.MaxValue / 2], Gen.Long[1, long.MaxValue / 2], Gen.Bool).Array[0, 30].Sample(items =>
        {
            string text = string.Join('\n', items.Select(i => i.Item3 ? $"0x{i.Item1:x},0x{i.Item2:X}" : $"{i.Item1} {i.Item2}")) + "\n# " +
                "comment\n\n";

            Assert.Equal(items.Select(i => new Extent(i.Item1, i.Item2)), ExtentList.Parse(text));
        }, iter: 300);
    }

    [Theory]
    [InlineData("12", "Line 1")]
    [InlineData("1 2 3", "Line 1")]
    [InlineData("0 100\n-5 10", "Line 2")]
    [InlineData("0x 10", "Line 1")]
    [InlineData("ten 10", "Line 1")]
    // Fuzzing (docs/fuzzing.md, finding 7): 16 hex digits from 8 up are a negative number in two's complement.
    [InlineData("0 4096\n0xffffffffffff2000,0x1000", "Line 2")]
    [InlineData("0x1000 0x8000000000000000", "Line 1")]
    public void Parse_BadLine_NamesIt(string text, string where)
    {
        var bad = Assert.Throws<FormatException>(() => ExtentList.Parse(text));

        Assert.StartsWith(where, bad.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The chunks lie in order inside the extents without overlapping and add up to them, so they cover them exactly;
    /// direct chunks are aligned, buffered ones are the unaligned head or tail of an extent; the byte counts add up.
    /// </summary>
    private static void AssertPlanCoversExactly(IReadOnlyList<Extent> extents, int blockSize)
    {
        var chunks = new WipePlan(extents, blockSize);

        long covered = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            WipeChunk chunk = chunks[i];
            Assert.InRange(chunk.Length, 1, blockSize);
            Assert.Contains(extents, e => chunk.Offset >= e.Offset && chunk.Offset + chunk.Length <= e.End);
            if (chunk.Direct)
            {
                Assert.Equal(0, chunk.Offset % 4096);
                Assert.Equal(0, chunk.Length % 4096);
            }
            else
            {
                Assert.InRange(chunk.Length, 1, 4095);
            }

            if (i > 0)
            {
                Assert.True(chunks[i - 1].Offset + chunks[i - 1].Length <= chunk.Offset, "chunks are in order and never overlap");
            }

            Assert.Equal(covered, chunks.BytesBefore(i));
            covered += chunk.Length;
        }

        Assert.Equal(extents.Sum(e => e.Length), covered);
        Assert.Equal(covered, chunks.TotalBytes);
        Assert.Equal(covered, chunks.BytesBefore(chunks.Count));
    }
}
