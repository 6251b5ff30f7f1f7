using System.Security.Cryptography;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

/// <summary>
/// Issue 20 on real loop devices: whole-device wipes verified byte for byte, extents, the device's own zeroing (BLKZEROOUT)
/// taken and reported, what the device says of itself, and refusals before anything is written.
/// </summary>
public sealed class BlockDeviceWipeTests : IDisposable
{
    private const int Size = 8 * 1024 * 1024;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [RequiresLoopDeviceFact]
    public async Task WholeDeviceZeroWritten_EveryByteIsZero_AndTheReportSaysItWasWritten()
    {
        (SanitizationReport report, string backing, _) = await WipeLoopAsync(ZeroOffload.Never, SanitizationMethod.Zero);

        Assert.True(report.Succeeded);
        Assert.Equal(Size, report.BytesVerified);
        Assert.Equal(["written with O_DIRECT"], report.PassPaths);
        Assert.Equal(-1, File.ReadAllBytes(backing).AsSpan().IndexOfAnyExcept((byte)0));
    }

    [RequiresLoopDeviceFact]
    public async Task WholeDeviceRandom_EveryByteChecked_NoBlockOfTheOldImageLeft()
    {
        (SanitizationReport report, string backing, byte[] old) = await WipeLoopAsync(ZeroOffload.Auto, SanitizationMethod.Random);

        // The full verification regenerates the keystream and compares every byte; the old image is nowhere.
        Assert.True(report.Succeeded);
        Assert.Equal(Size, report.BytesVerified);
        Assert.Equal(1.0, report.VerifiedCoverage);
        byte[] now = File.ReadAllBytes(backing);
        for (int block = 0; block < Size; block += 4096)
        {
            Assert.False(now.AsSpan(block, 4096).SequenceEqual(old.AsSpan(block, 4096)), $"block at {block} still holds the old data");
        }

        int zeros = now.Count(b => b == 0);
        Assert.InRange(zeros, Size / 256 / 2, Size / 256 * 2);
    }

    [RequiresLoopDeviceFact]
    public async Task ZeroOffloadRequired_OnALoopDevice_IsTaken_VerifiedPastTheCache_AndReportedInTheCertificate()
    {
        // The loop device advertises WRITE ZEROES (fallocate on its backing file); the pass is handed to it.
        (SanitizationReport report, string backing, _) = await WipeLoopAsync(ZeroOffload.Require, SanitizationMethod.NistClear);

        Assert.True(report.Succeeded);
        Assert.True(report.DirectIo);
        Assert.Equal(Size, report.BytesVerified);
        Assert.StartsWith("offloaded to the device: BLKZEROOUT", Assert.Single(report.PassPaths), StringComparison.Ordinal);
        Assert.Contains(report.Caveats, c => c.Contains("The device, not this tool, wrote the offloaded zeros", StringComparison.Ordinal));
        Assert.Contains(report.Caveats, c => c.Contains($"fallocate on its backing file '{backing}'", StringComparison.Ordinal));
        Assert.Equal(-1, File.ReadAllBytes(backing).AsSpan().IndexOfAnyExcept((byte)0));
        SanitizationCertificate certificate = SanitizationCertificate.From(report, "host-a");
        Assert.Equal("block device", certificate.MediaType);
        Assert.Contains("0x00 (offloaded to the device: BLKZEROOUT", certificate.SanitizationTechnique, StringComparison.Ordinal);
        Assert.Contains("backed by", certificate.MediaDescription, StringComparison.Ordinal);
        Assert.Contains("No purge was run", certificate.PurgeAssessment, StringComparison.Ordinal);
    }

    [RequiresLoopDeviceFact]
    public async Task ZeroOffloadRequired_WithExtentsNotOfWholeBlocks_IsRefusedBeforeAnyWrite()
    {
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            var refused = await Assert.ThrowsAsync<ZeroOffloadUnavailableException>(() => Sanitizer(ZeroOffload.Require)
                .SanitizeFileAsync(device.Path, SanitizationMethod.Zero, [new Extent(4096, 1000)]));
            Assert.Contains("whole 512-byte logical blocks", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(old, File.ReadAllBytes(backing));
    }

    [RequiresLoopDeviceFact]
    public async Task ExtentsOfADevice_OnlyThoseAreOverwritten_DodPassesEachSayHowTheyWereDone()
    {
        Extent[] extents = [new Extent(0, 1024 * 1024), new Extent(5 * 1024 * 1024, 512 * 1024)];
        (SanitizationReport report, string backing, byte[] old) = await WipeLoopAsync(ZeroOffload.Auto, SanitizationMethod.DoD522022M,
            extents);

        // Auto does not hand a loop device its zeros: its fallocate would write nothing.
        Assert.True(report.Succeeded);
        Assert.Equal(["written with O_DIRECT", "written with O_DIRECT", "written with O_DIRECT"], report.PassPaths);
        byte[] now = File.ReadAllBytes(backing);
        Assert.Equal(old.AsSpan(1024 * 1024, 4 * 1024 * 1024).ToArray(), now.AsSpan(1024 * 1024, 4 * 1024 * 1024).ToArray());
        Assert.Equal(old.AsSpan(5 * 1024 * 1024 + 512 * 1024).ToArray(), now.AsSpan(5 * 1024 * 1024 + 512 * 1024).ToArray());
        Assert.False(now.AsSpan(0, 4096).SequenceEqual(old.AsSpan(0, 4096)));
    }

    /// <summary>A later re-verification of a device reads the whole device (its length is 0 to the file API), and finds a byte that
    /// changed.</summary>
    [RequiresLoopDeviceFact]
    public async Task VerifyFileAsync_OnADevice_ChecksEveryByte_AndFindsAChange()
    {
        string backing = OldImage();
        long? clean;
        long? changed;
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            await Sanitizer(ZeroOffload.Never).SanitizeFileAsync(device.Path, SanitizationMethod.Zero);
            clean = await Sanitizer(ZeroOffload.Never).VerifyFileAsync(device.Path, SanitizationPass.Fill(0));
            await using (var stream = new FileStream(device.Path, FileMode.Open, FileAccess.Write))
            {
                stream.Position = Size - 100;
                stream.WriteByte(0x5A);
            }

            changed = await Sanitizer(ZeroOffload.Never).VerifyFileAsync(device.Path, SanitizationPass.Fill(0));
        }

        Assert.Null(clean);
        Assert.Equal(Size - 100, changed);
    }

    /// <summary>Whoever attaches a loop device names its backing file: a quote in the name cannot end the quotation in a caveat
    /// and add words that read as the tool's own.</summary>
    [RequiresLoopDeviceFact]
    public async Task ABackingFileNamedWithAQuote_CannotAddWordsToTheCaveats()
    {
        string backing = _dir.File("x' is clean. Nothing remains '.img");
        File.WriteAllBytes(backing, RandomNumberGenerator.GetBytes(Size));
        SanitizationReport report;
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            report = await Sanitizer(ZeroOffload.Require).SanitizeFileAsync(device.Path, SanitizationMethod.Zero);
        }

        string caveat = Assert.Single(report.Caveats, c => c.StartsWith("This loop device zeroes", StringComparison.Ordinal));
        Assert.Contains("x\\' is clean. Nothing remains \\'.img'", caveat, StringComparison.Ordinal);
        Assert.DoesNotContain("x' is clean", caveat, StringComparison.Ordinal);
    }

    [RequiresLoopDeviceFact]
    public async Task DeviceProperties_AreThoseTheKernelGives()
    {
        string backing = OldImage();
        SanitizationReport report;
        string name;
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            name = Path.GetFileName(device.Path);
            report = await Sanitizer(ZeroOffload.Never).SanitizeFileAsync(device.Path, SanitizationMethod.Zero, [new Extent(0, 4096)]);
        }

        BlockDeviceProperties properties = Assert.IsType<BlockDeviceProperties>(report.Device);
        Assert.Equal(name, properties.Name);
        Assert.Equal("loop", properties.Transport);
        Assert.Equal(Size, properties.Size);
        Assert.Equal(512, properties.LogicalBlockSize);
        Assert.True(properties.PhysicalBlockSize >= 512);
        Assert.Equal(backing, properties.BackingFile);
        Assert.Null(properties.PartitionOf);
        Assert.True(properties.MaxWriteBytes >= 4096);
        Assert.True(properties.OffloadsZeroes);
        Assert.Empty(Assert.IsType<PurgeCapabilities>(report.Purge).Offered);
    }

    /// <summary>A checkpoint left by a wipe whose zeros the device wrote does not resume one that writes them (or the reverse):
    /// the resumed report would call the pass written, without the offload caveat.</summary>
    [Fact]
    public void CheckpointPlan_NamesWhichPassesTheDeviceZeroes()
    {
        IReadOnlyList<SanitizationPass> passes = SanitizationMethods.Passes(SanitizationMethod.DoD522022M);
        Extent[] extents = [new Extent(0, Size)];

        string written = WipeCheckpoint.Fingerprint(passes, [false, false, false], extents, 1024 * 1024);
        string offloaded = WipeCheckpoint.Fingerprint(passes, [true, false, false], extents, 1024 * 1024);

        Assert.NotEqual(written, offloaded);
        Assert.Equal(written, WipeCheckpoint.Fingerprint(passes, [false, false, false], extents, 1024 * 1024));
    }

    /// <summary>A loop device over the target claims nothing (O_EXCL succeeds, no holders): the wipe would destroy what is
    /// mounted from it. It is refused before a byte is written.</summary>
    [RequiresLoopDeviceFact]
    public async Task ALoopDeviceOverTheDevice_IsRefusedBeforeAnyWrite()
    {
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using (LoopDevice device = LoopDevice.Attach(backing))
        using (LoopDevice stacked = LoopDevice.Attach(device.Path))
        {
            var refused = await Assert.ThrowsAsync<BlockDeviceRefusedException>(() => Sanitizer(ZeroOffload.Never)
                .SanitizeFileAsync(device.Path, SanitizationMethod.Zero));
            Assert.Contains($"{stacked.Path} is a loop device over {device.Path} (the device itself); detach it first",
                refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(old, File.ReadAllBytes(backing));
    }

    [Fact]
    public async Task SecureDiscardOnAFile_IsRefusedBeforeAnyWrite()
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => new BlockSanitizer(new SanitizerOptions { SecureDiscard = true })
            .SanitizeFileAsync(file, SanitizationMethod.Zero));

        Assert.Contains("applies to block devices", refused.Message, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(file));
    }

    [Fact]
    public async Task ZeroOffloadRequiredOnAFile_IsRefusedBeforeAnyWrite_AutoWritesTheZeros()
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);

        await Assert.ThrowsAsync<ZeroOffloadUnavailableException>(() => new BlockSanitizer(new SanitizerOptions
        {
            ZeroOffload = ZeroOffload.Require,
        }).SanitizeFileAsync(file, SanitizationMethod.Zero));
        Assert.Equal(old, File.ReadAllBytes(file));

        SanitizationReport written = await new BlockSanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero);
        Assert.Equal(["written with O_DIRECT"], written.PassPaths);
        Assert.Null(written.Device);
        Assert.Null(written.Purge);
    }

    [RequiresLoopDeviceFact]
    public async Task InterruptedDeviceWipe_KeepsItsCheckpointInTheStateDirectory_NamedByDeviceNumber_AndResumesFromIt()
    {
        string backing = OldImage();
        using LoopDevice device = LoopDevice.Attach(backing);
        string state = _dir.File("state");
        SanitizerOptions options = ResumableOptions(state);
        using var stop = new CancellationTokenSource();
        var halfway = new SynchronousProgress<SanitizationProgress>(p =>
        {
            if (p.Stage == "write" && p.Bytes > p.Total / 2)
            {
                stop.Cancel();
            }
        });

        SanitizationReport first = await new BlockSanitizer(options).SanitizeFileAsync(device.Path, SanitizationMethod.Random,
            progress: halfway, cancellationToken: stop.Token);

        Assert.False(first.Completed);
        string number = File.ReadAllText($"/sys/block/{Path.GetFileName(device.Path)}/dev").Trim();
        string checkpoint = Path.Combine(state, $"block-{number.Replace(':', '-')}.secmig-wipe");
        Assert.True(File.Exists(checkpoint), "the checkpoint is in the state directory, named after the device number");
        Assert.False(File.Exists(device.Path + ".secmig-wipe"), "nothing is kept beside the device node (/dev forgets it at a reboot)");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(checkpoint));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));

        SanitizationReport second = await new BlockSanitizer(options).SanitizeFileAsync(device.Path, SanitizationMethod.Random);

        Assert.True(second.Resumed);
        Assert.True(second.Succeeded, $"mismatch at {second.MismatchOffset}");
        Assert.Equal(Size, second.BytesVerified);
        Assert.False(File.Exists(checkpoint));
    }

    [RequiresLoopDeviceFact]
    public async Task DeviceWipe_WhoseStateDirectoryIsASymbolicLink_IsRefusedBeforeAnythingIsWritten()
    {
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using LoopDevice device = LoopDevice.Attach(backing);
        Directory.CreateDirectory(_dir.File("elsewhere"));
        string link = _dir.File("state");
        File.CreateSymbolicLink(link, _dir.File("elsewhere"));

        await Assert.ThrowsAsync<SymbolicLinkRefusedException>(() => new BlockSanitizer(ResumableOptions(link))
            .SanitizeFileAsync(device.Path, SanitizationMethod.Zero));

        Assert.Equal(old, File.ReadAllBytes(backing));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.File("elsewhere")));
    }

    /// <summary>Wipes a loop device over a fresh image of random bytes; the report, the backing file and what it held before.</summary>
    private async Task<(SanitizationReport Report, string Backing, byte[] Old)> WipeLoopAsync(ZeroOffload offload,
        SanitizationMethod method, IReadOnlyList<Extent>? extents = null)
    {
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using LoopDevice device = LoopDevice.Attach(backing);
        return (await Sanitizer(offload).SanitizeFileAsync(device.Path, method, extents), backing, old);
    }

    private static BlockSanitizer Sanitizer(ZeroOffload offload) => new(new SanitizerOptions
    {
        BlockSize = 256 * 1024,
        AllowBlockDevices = true,
        ZeroOffload = offload,
    });

    private static SanitizerOptions ResumableOptions(string stateDirectory) => new()
    {
        BlockSize = 64 * 1024,
        WritesInFlight = 2,
        CheckpointInterval = 256 * 1024,
        AllowBlockDevices = true,
        ZeroOffload = ZeroOffload.Never,
        CheckpointKey = HostKey.FromSecret(new byte[HostKey.Length]),
        CheckpointDirectory = stateDirectory,
    };

    private string OldImage()
    {
        string file = _dir.File($"old-{Guid.NewGuid():N}.img");
        File.WriteAllBytes(file, RandomNumberGenerator.GetBytes(Size));
        return file;
    }
}
