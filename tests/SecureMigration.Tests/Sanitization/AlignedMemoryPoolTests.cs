using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

/// <summary>The aligned blocks a wipe reads and writes through: carved from huge-page slabs or allocated one by one.</summary>
public sealed class AlignedMemoryPoolTests
{
    [Theory]
    [InlineData(1024 * 1024)]
    [InlineData(4 * 1024 * 1024)]
    [InlineData(64 * 1024)]
    [InlineData(3 * 1024 * 1024)]
    public void Blocks_AreDistinct_AndHoldWhatIsWritten(int blockSize)
    {
        using var pool = new AlignedMemoryPool(blockSize);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        for (int i = 0; i < blocks.Count; i++)
        {
            Assert.Equal(blockSize, blocks[i].Memory.Length);
            blocks[i].Memory.Span.Fill((byte)(i + 1));
        }

        // Two blocks never overlap: each still holds its own byte after all were written.
        for (int i = 0; i < blocks.Count; i++)
        {
            Assert.Equal(-1, blocks[i].Memory.Span.IndexOfAnyExcept((byte)(i + 1)));
        }
    }

    [Fact]
    public void AReturnedBlock_IsRentedAgain_AndABlockOfADisposedPool_IsRefused()
    {
        var pool = new AlignedMemoryPool(1024 * 1024);
        System.Buffers.IMemoryOwner<byte> first = pool.Rent();
        Memory<byte> memory = first.Memory;
        first.Dispose();
        System.Buffers.IMemoryOwner<byte> again = pool.Rent();

        Assert.True(again.Memory.Span == memory.Span);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => again.Memory.Span.Length);
    }
}
