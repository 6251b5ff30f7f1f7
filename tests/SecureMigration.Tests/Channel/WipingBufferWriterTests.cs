using SecureMigration.Channel.Records;

namespace SecureMigration.Tests.Channel;

/// <summary>The ticket exchange's buffer holds the ticket and the first VM bytes behind it: nothing of it may outlive its use.</summary>
public sealed class WipingBufferWriterTests
{
    [Fact]
    public void Growing_ZeroesTheOldArray_AndDisposing_ZeroesTheLast()
    {
        var writer = new WipingBufferWriter(8);
        Memory<byte> first = writer.GetMemory(8);
        first.Span.Fill(0xA5);
        writer.Advance(8);

        Memory<byte> second = writer.GetMemory(100);
        second.Span[..4].Fill(0x5A);
        writer.Advance(4);

        Assert.True(first.Span.IndexOfAnyExcept((byte)0) < 0, "the outgrown array still holds data");
        Assert.Equal([0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0x5A, 0x5A, 0x5A, 0x5A], writer.WrittenSpan.ToArray());

        Memory<byte> last = writer.GetMemory(1);
        writer.Dispose();

        Assert.Equal(0, writer.WrittenCount);
        Assert.True(last.Span.IndexOfAnyExcept((byte)0) < 0);
    }
}
