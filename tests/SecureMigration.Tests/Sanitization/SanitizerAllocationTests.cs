using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

/// <summary>Runs alone: it counts the allocations of the whole process, which parallel tests would add to.</summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class SanitizerAllocationTests : IDisposable
{
    private const int BlockSize = 4096;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(SanitizationMethod.Zero)]
    [InlineData(SanitizationMethod.Random)]
    public async Task SanitizeFileAsync_FourTimesTheBlocks_AllocatesNoMoreThanNoiseMore(SanitizationMethod method)
    {
        var sanitizer = new BlockSanitizer(new SanitizerOptions { BlockSize = BlockSize, Resumable = false });
        string small = Image("small.img", 1024);
        string large = Image("large.img", 4096);
        await sanitizer.SanitizeFileAsync(small, SanitizationMethods.Passes(method), method.ToString(), VerificationMode.Full);

        long smallRun = await AllocatedBy(() => sanitizer.SanitizeFileAsync(small, SanitizationMethods.Passes(method), method.ToString(),
            VerificationMode.Full));
        long largeRun = await AllocatedBy(() => sanitizer.SanitizeFileAsync(large, SanitizationMethods.Passes(method), method.ToString(),
            VerificationMode.Full));

        // 3072 more blocks written and read back: even 8 bytes a block would add 24 KiB.
        Assert.True(largeRun - smallRun < 16 * 1024, $"{method}: {smallRun} bytes for 1024 blocks, {largeRun} for 4096");
    }

    /// <summary>
    /// The fewest bytes the process allocated over three runs: the count is process-wide, so work other tests left
    /// behind (a connection closing, a child process exiting) can only add to it.
    /// </summary>
    private static async Task<long> AllocatedBy(Func<Task> run)
    {
        long fewest = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await run();
            fewest = Math.Min(fewest, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        return fewest;
    }

    private string Image(string name, int blocks)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, new byte[blocks * BlockSize]);
        return path;
    }
}
