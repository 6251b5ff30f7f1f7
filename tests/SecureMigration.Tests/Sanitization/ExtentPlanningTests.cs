using CsCheck;
using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

public sealed class ExtentPlanningTests
{
    [Fact]
    public void Plan_AnyValidExtents_CoversExactlyThemWithAlignedDirectChunksOfAtMostABlockAndCountsTheBytesBefore()
    {
        Gen.Select(Gen.Long[1, 50_000_000], Gen.Select(Gen.Long[0, 49_999_999], Gen.Long[1, 3_000_000]).Array[0, 20], Gen.Int[1, 64]).Sample((size, raw, blocks) =>
        {
            int blockSize = blocks * 4096;
            IReadOnlyList<Extent> extents;
            try
            {
                extents = ExtentList.Validate([.. raw.Select(r => new Extent(r.Item1, r.Item2))], size);
            }
            catch (ArgumentException)
            {
                return;
            }

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
        }, iter: 500);
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
            string text = string.Join('\n', items.Select(i => i.Item3 ? $"0x{i.Item1:x},0x{i.Item2:X}" : $"{i.Item1} {i.Item2}")) + "\n# comment\n\n";

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
}
