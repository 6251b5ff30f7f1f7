using System.Buffers;
using SecureMigration.Channel.Records;

namespace SecureMigration.Tests.Channel;

public sealed class WipingMemoryPoolTests
{
    [Fact]
    public void Return_ZeroesTheBlockBeforeItIsReused()
    {
        using var pool = new WipingMemoryPool();
        IMemoryOwner<byte> first = pool.Rent(1024);
        Memory<byte> memory = first.Memory;
        memory.Span.Fill(0xAB);
        first.Dispose();

        IMemoryOwner<byte> second = pool.Rent(1024);

        Assert.True(second.Memory.Span.IndexOfAnyExcept((byte)0) < 0);
        Assert.True(memory.Span.IndexOfAnyExcept((byte)0) < 0);
        second.Dispose();
    }

    [Fact]
    public void Rent_AfterReturn_ReusesTheBlockWithoutAllocating()
    {
        using var pool = new WipingMemoryPool();
        pool.Rent().Dispose();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            pool.Rent().Dispose();
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
