using Microsoft.Win32.SafeHandles;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

/// <summary>The I/O thread of a wipe's slot: positioned writes and reads, their errors and cancellation, at the awaiting code.</summary>
public sealed class IoSlotTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AWriteThenARead_OnTheSlotsThread_RoundTripAtTheirOffsets()
    {
        using SafeFileHandle file = File.OpenHandle(_dir.File("data"), FileMode.Create, FileAccess.ReadWrite);
        using var slot = new IoSlot();
        byte[] data = [1, 2, 3, 4];
        byte[] back = new byte[8];

        await slot.WriteAsync(file, data, 4, CancellationToken.None);
        int read = await slot.ReadAsync(file, back, 0, CancellationToken.None);

        Assert.Equal(8, read);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 2, 3, 4 }, back);
    }

    [Fact]
    public async Task AnInlineSlot_HasLandedTheOperationWhenTheCallReturns()
    {
        using SafeFileHandle file = File.OpenHandle(_dir.File("data"), FileMode.Create, FileAccess.ReadWrite);
        using var slot = new IoSlot(inline: true);
        byte[] back = new byte[2];

        ValueTask write = slot.WriteAsync(file, new byte[] { 7, 8 }, 0, CancellationToken.None);
        Assert.True(write.IsCompletedSuccessfully);
        await write;
        ValueTask<int> read = slot.ReadAsync(file, back, 0, CancellationToken.None);

        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal(2, await read);
        Assert.Equal(new byte[] { 7, 8 }, back);
    }

    [Fact]
    public async Task AFailedWrite_ThrowsAtTheAwait_AndTheSlotServesTheNextOperation()
    {
        File.WriteAllBytes(_dir.File("data"), [9, 9]);
        using SafeFileHandle readOnly = File.OpenHandle(_dir.File("data"), FileMode.Open, FileAccess.Read);
        using var slot = new IoSlot();

        await Assert.ThrowsAnyAsync<Exception>(async () => await slot.WriteAsync(readOnly, new byte[] { 1 }, 0, CancellationToken.None));
        byte[] back = new byte[2];
        Assert.Equal(2, await slot.ReadAsync(readOnly, back, 0, CancellationToken.None));
        Assert.Equal(new byte[] { 9, 9 }, back);
    }

    [Fact]
    public async Task AFilledWrite_WritesTheKeystreamAtItsOffset_FromTheSlotsOwnCopyOfTheStream()
    {
        using SafeFileHandle file = File.OpenHandle(_dir.File("data"), FileMode.Create, FileAccess.ReadWrite);
        using var keystream = new AesCtrKeystream(new byte[AesCtrKeystream.KeyLength], 7);
        using var fill = BlockFill.ForSlot(SanitizationPass.Random, keystream);
        using var slot = new IoSlot();
        byte[] block = new byte[4096];

        await slot.FillAndWriteAsync(file, block, 8192, fill, CancellationToken.None);

        byte[] expected = new byte[4096];
        keystream.Generate(8192, expected);
        byte[] back = new byte[4096];
        Assert.Equal(4096, await slot.ReadAsync(file, back, 8192, CancellationToken.None));
        Assert.Equal(expected, back);
        Assert.Equal(8192 + 4096, RandomAccess.GetLength(file));
    }

    [Fact]
    public async Task ACancelledWrite_WritesNothing()
    {
        using SafeFileHandle file = File.OpenHandle(_dir.File("data"), FileMode.Create, FileAccess.ReadWrite);
        using var slot = new IoSlot();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await slot.WriteAsync(file, new byte[] { 1 }, 0, new CancellationToken(canceled: true)));

        Assert.Equal(0, RandomAccess.GetLength(file));
    }
}
