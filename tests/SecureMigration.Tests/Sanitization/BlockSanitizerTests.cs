using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

public sealed class BlockSanitizerTests : IDisposable
{
    // Not a multiple of 4096: the unaligned tail takes the buffered path.
    private const int Size = 3 * 1024 * 1024 + 123;

    // The report's caveat for a wipe that went through the page cache.
    private const string PageCacheCaveat = "The page cache ";

    // The test directory is on a disk file system (ext4 under /tmp here) that allows O_DIRECT.
    private const string AllowsDirectIo = "the test directory allows O_DIRECT, yet the wipe fell back to the page cache";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Issue 20: <see cref="SanitizerOptions.ClearSize"/> overwrites only the start of a whole-target wipe (all of a smaller
    /// target), and the report says which range was overwritten.</summary>
    [Fact]
    public async Task SanitizeFileAsync_ClearSize_OverwritesOnlyTheStart_AndAllOfASmallerTarget()
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);
        string small = _dir.File("small.img");
        File.WriteAllBytes(small, old[..5000]);

        SanitizationReport report = await new BlockSanitizer(new SanitizerOptions { ClearSize = 1024 * 1024 })
            .SanitizeFileAsync(file, SanitizationMethod.Zero);
        SanitizationReport whole = await new BlockSanitizer(new SanitizerOptions { ClearSize = 1024 * 1024 })
            .SanitizeFileAsync(small, SanitizationMethod.Zero);

        byte[] now = File.ReadAllBytes(file);
        Assert.Equal(-1, now.AsSpan(0, 1024 * 1024).IndexOfAnyExcept((byte)0));
        Assert.Equal(old[(1024 * 1024)..], now[(1024 * 1024)..]);
        Assert.Equal([new Extent(0, 1024 * 1024)], report.Extents);
        Assert.Equal([new Extent(0, 5000)], whole.Extents);
        Assert.Equal(-1, File.ReadAllBytes(small).AsSpan().IndexOfAnyExcept((byte)0));
    }

    [Theory]
    [InlineData(SanitizationMethod.Zero, (byte)0x00)]
    [InlineData(SanitizationMethod.NistClear, (byte)0x00)]
    [InlineData(SanitizationMethod.Ones, (byte)0xFF)]
    public async Task SanitizeFileAsync_FillMethods_LeaveExactlyThePatternAndVerifyPastThePageCache(SanitizationMethod method,
        byte expected)
    {
        string file = OldImage();

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, method);

        Assert.True(report.Succeeded);
        Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOfAnyExcept(expected));
        Assert.Equal(Size, report.BytesVerified);
        Assert.Equal(1.0, report.VerifiedCoverage);
        Assert.True(report.DirectIo, AllowsDirectIo);
        Assert.NotEmpty(report.Caveats);
        Assert.DoesNotContain(report.Caveats, c => c.StartsWith(PageCacheCaveat, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(SanitizationMethod.Random, 1)]
    [InlineData(SanitizationMethod.DoD522022M, 3)]
    [InlineData(SanitizationMethod.Gutmann, 35)]
    public async Task SanitizeFileAsync_RandomMethods_LeaveNoOldByteAndVerifyTheKeystream(SanitizationMethod method, int passes)
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);

        SanitizationReport report = await new BlockSanitizer(new SanitizerOptions { BlockSize = 256 * 1024 }).SanitizeFileAsync(file,
            method);

        byte[] now = File.ReadAllBytes(file);
        Assert.True(report.Succeeded);
        Assert.Equal(passes, report.Passes.Count);
        Assert.Equal("random", report.Passes[^1]);
        Assert.Equal(Size, report.BytesVerified);
        Assert.True(report.DirectIo, AllowsDirectIo);
        // Keystream bytes match the old image only by chance (1 in 256 per byte), and are not a fill pattern.
        Assert.InRange(now.Zip(old).Count(p => p.First == p.Second), 0, Size / 128);
        Assert.InRange(now.Count(b => b == 0), 0, Size / 128);
    }

    [Fact]
    public async Task SanitizeFileAsync_DirectIoTurnedOff_GoesThroughThePageCacheAndSaysSo()
    {
        string file = OldImage();

        SanitizationReport report = await new BlockSanitizer(new SanitizerOptions { BlockSize = 64 * 1024,
            DirectIo = false }).SanitizeFileAsync(file, SanitizationMethod.Zero);

        Assert.True(report.Succeeded);
        Assert.False(report.DirectIo);
        // It says why: the options turned direct I/O off, not that this storage refuses it.
        Assert.Contains(report.Caveats, c => c.StartsWith("The page cache was not bypassed (SanitizerOptions.DirectIo is off)",
            StringComparison.Ordinal));
    }

    [Fact]
    public async Task SanitizeFileAsync_Extents_OverwritesThemAndNothingElse()
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);
        Extent[] extents = [new(100, 5000), new(1_048_576, 2 * 1_048_576), new(Size - 10, 10)];

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero, extents);

        byte[] now = File.ReadAllBytes(file);
        Assert.True(report.Succeeded);
        for (int i = 0; i < Size; i++)
        {
            bool inside = extents.Any(e => i >= e.Offset && i < e.End);
            if (inside ? now[i] != 0 : now[i] != old[i])
            {
                Assert.Fail($"byte {i} ({(inside ? "inside" : "outside")} the extents) is {now[i]:X2}");
            }
        }
    }

    [Theory]
    [InlineData(0L, 0L, "empty or outside")]
    [InlineData(Size - 5L, 10L, "empty or outside")]
    [InlineData(-1L, 10L, "empty or outside")]
    public async Task SanitizeFileAsync_BadExtent_IsRefusedAndTouchesNothing(long offset, long length, string problem)
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero,
            [new Extent(offset, length)]));

        Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(file));
    }

    [Fact]
    public async Task SanitizeFileAsync_OverlappingExtents_AreRefused()
    {
        string file = OldImage();

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero,
            [new Extent(0, 4096), new Extent(4000, 100)]));

        Assert.Contains("overlap", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SanitizeFileAsync_BlockChangedBehindItsBack_FailsVerificationWithTheOffset()
    {
        string file = OldImage();
        const long Tampered = 2_000_001;
        var tamper = new SynchronousProgress<SanitizationProgress>(p =>
        {
            if (p.Stage == "write" && p.Bytes == p.Total)
            {
                // Another writer, outside .NET's share locks, changes one byte after the pass was written.
                int descriptor = Posix.Open(file, Posix.ReadWrite, 0);
                using var handle = new SafeFileHandle(descriptor, ownsHandle: true);
                RandomAccess.Write(handle, new byte[] { 0x5A }, Tampered);
            }
        });

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero, progress: tamper);

        Assert.False(report.Succeeded);
        Assert.True(report.Completed);
        Assert.Equal(Tampered, report.MismatchOffset);
    }

    [Fact]
    public async Task SanitizeFileAsync_ManyBlocksChangedBehindItsBack_ReportsTheFirst_AndOnlyTheBytesBeforeItAsVerified()
    {
        // The slots compare out of order and stop at their own first difference: the report must still name the lowest, or
        // an operator would be told blocks before it were verified that were never compared.
        string file = OldImage();
        const int Block = 64 * 1024;
        const int FirstChanged = 5;
        var tamper = new SynchronousProgress<SanitizationProgress>(p =>
        {
            if (p.Stage == "write" && p.Bytes == p.Total)
            {
                int descriptor = Posix.Open(file, Posix.ReadWrite, 0);
                using var handle = new SafeFileHandle(descriptor, ownsHandle: true);
                for (long offset = FirstChanged * Block + 7; offset < Size; offset += Block)
                {
                    RandomAccess.Write(handle, new byte[] { 0x5A }, offset);
                }
            }
        });

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero, progress: tamper);

        Assert.False(report.Succeeded);
        Assert.Equal(FirstChanged * Block + 7, report.MismatchOffset);
        Assert.Equal(FirstChanged * Block, report.BytesVerified);
    }

    /// <summary>The wipe's exclusive lock ends with the wipe even while a child started by another thread holds copies of its
    /// descriptors (between fork and exec): a file opened with .NET's share locks right after the wipe is not refused as in use.
    /// Flaky before the lock was released ahead of the close (the Ones fill test failed so once another test started a
    /// process).</summary>
    [Fact]
    public async Task SanitizeFileAsync_DescriptorsCopiedIntoAChild_LockEndsWithTheWipe()
    {
        string file = OldImage();
        ForkedDescriptors? child = null;
        var copyOnce = new SynchronousProgress<SanitizationProgress>(_ => child ??= new ForkedDescriptors(file));
        try
        {
            SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Ones, progress: copyOnce);

            Assert.True(report.Succeeded);
            Assert.NotNull(child);
            Assert.True(child.Count > 1, $"{child.Count} descriptors of the wipe were copied, expected its slots' handles");
            Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOfAnyExcept((byte)0xFF));
            using var exclusive = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        finally
        {
            child?.Dispose();
        }
    }

    [Fact]
    public async Task SanitizeFileAsync_Cancelled_ReportsIncomplete()
    {
        string file = OldImage();
        using var stop = new CancellationTokenSource();
        var cancelAtFirstProgress = new SynchronousProgress<SanitizationProgress>(_ => stop.Cancel());

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.DoD522022M,
            progress: cancelAtFirstProgress, cancellationToken: stop.Token);

        Assert.False(report.Completed);
        Assert.False(report.Succeeded);
    }

    [Fact]
    public async Task SanitizeFileAsync_InterruptedInsideARandomPass_ResumesFromItsCheckpointAndVerifiesEveryByte()
    {
        string file = OldImage();
        var options = ResumableOptions();
        SanitizationReport first = await InterruptInsideTheRandomPassAsync(file, options);
        Assert.False(first.Completed);
        Assert.True(File.Exists(file + ".secmig-wipe"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file + ".secmig-wipe"));
        // The random pass's key travels sealed under the host key, never in plaintext.
        int checkpointedChunks;
        using (JsonDocument checkpoint = JsonDocument.Parse(File.ReadAllBytes(file + ".secmig-wipe")))
        {
            // Inside the random pass (the third, 0-based 2): the first two are done. How far inside depends on the moment the
            // run stopped, as the other slots go on writing while one writes a checkpoint.
            Assert.Equal(2, checkpoint.RootElement.GetProperty("Pass").GetInt32());
            checkpointedChunks = checkpoint.RootElement.GetProperty("Chunk").GetInt32();
            Assert.False(checkpoint.RootElement.TryGetProperty("Key", out _));
            Assert.Equal(12 + AesCtrKeystream.KeyLength + 16, Convert.FromBase64String(checkpoint.RootElement.GetProperty("SealedKey").GetString()!).Length);
        }

        SanitizationProgress? firstWrite = null;
        var watch = new SynchronousProgress<SanitizationProgress>(p => firstWrite ??= p.Stage == "write" ? p : null);
        SanitizationReport second = await new BlockSanitizer(options).SanitizeFileAsync(file, SanitizationMethod.DoD522022M,
            progress: watch);

        Assert.True(second.Resumed);
        Assert.True(second.Succeeded, $"mismatch at {second.MismatchOffset}");
        Assert.Equal(Size, second.BytesVerified);
        Assert.Equal(first.Started, second.Started);
        // The second run writes only the random pass, from the chunk its checkpoint names.
        Assert.Equal(3, firstWrite?.Pass);
        Assert.Equal((checkpointedChunks + 1L) * options.BlockSize, firstWrite?.Bytes);
        Assert.False(File.Exists(file + ".secmig-wipe"));
    }

    [Fact]
    public async Task SanitizeFileAsync_InterruptedWithoutACheckpointKey_StartsOverFromTheFirstPass()
    {
        // Defense: without a host key no checkpoint is written or trusted, so nothing can make a wipe skip passes.
        string file = OldImage();
        var options = ResumableOptions();
        options.CheckpointKey = null;

        SanitizationReport first = await InterruptInsideTheRandomPassAsync(file, options);
        Assert.False(first.Completed);
        Assert.False(File.Exists(file + ".secmig-wipe"));

        IReadOnlySet<int> passesWritten = await WipeAgainFromTheStartAsync(file, options);

        Assert.Contains(1, passesWritten);
    }

    [Fact]
    public async Task SanitizeFileAsync_ForgedCheckpointThatSkipsEveryPass_IsIgnored()
    {
        // Defense: a checkpoint counts only when its HMAC under the host key verifies.
        string file = OldImage();
        var options = ResumableOptions();
        await InterruptInsideTheRandomPassAsync(file, options);
        // An insider who can write the directory claims every pass done: Pass 3 of 3, with the MAC left as it was.
        string checkpointPath = file + ".secmig-wipe";
        var forged = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(checkpointPath))!;
        forged["Pass"] = 3;
        File.WriteAllText(checkpointPath, forged.ToJsonString());

        IReadOnlySet<int> passesWritten = await WipeAgainFromTheStartAsync(file, options);

        Assert.Equal([1, 2, 3], passesWritten.Order());
    }

    [Fact]
    public async Task SanitizeFileAsync_FifoPlantedAsTheCheckpoint_IsIgnoredWithoutWaiting()
    {
        // Defense: a FIFO in the checkpoint's place (a read of it waits for a writer forever) is not read as a checkpoint.
        string file = OldImage();
        var options = ResumableOptions();
        Assert.Equal(0, Mkfifo(file + ".secmig-wipe", Convert.ToInt32("600", 8)));

        // A deadlock guard, not a time: without the defense the wipe never ends (its read of the FIFO blocks the thread that
        // starts it, so it starts on another).
        IReadOnlySet<int> passesWritten = await Task.Run(() => WipeAgainFromTheStartAsync(file, options))
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal([1, 2, 3], passesWritten.Order());
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, int mode);

    [Fact]
    public async Task SanitizeFileAsync_CheckpointOfAFileSinceReplacedUnderTheSameName_IsIgnored()
    {
        // Defense: a checkpoint is bound to the target's device and inode, not only its path and size.
        string file = OldImage();
        var options = ResumableOptions();
        await InterruptInsideTheRandomPassAsync(file, options);
        string replacement = OldImage();
        File.Move(replacement, file, overwrite: true);

        IReadOnlySet<int> passesWritten = await WipeAgainFromTheStartAsync(file, options);

        Assert.Contains(1, passesWritten);
    }

    [Fact]
    public async Task SanitizeFileAsync_CheckpointOfAnotherWipe_IsIgnored()
    {
        string file = OldImage();
        File.WriteAllText(file + ".secmig-wipe",
            "{\"Target\":\"/elsewhere\",\"Size\":1,\"Plan\":\"x\",\"Pass\":5,\"Chunk\":9,\"Nonce\":0," +
            "\"Started\":\"2026-01-01T00:00:00Z\"}");

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero);

        Assert.False(report.Resumed);
        Assert.True(report.Succeeded);
        Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public async Task SanitizeFileAsync_SparseFileWithAnotherHardLink_SaysSoInTheCaveats()
    {
        string file = _dir.File("sparse.img");
        using (FileStream stream = File.Create(file))
        {
            stream.SetLength(64L * 1024 * 1024);
            stream.Write(new byte[4096]);
        }

        using (var link = System.Diagnostics.Process.Start("ln", [file, _dir.File("second-name.img")]))
        {
            await link.WaitForExitAsync();
        }

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(file, [SanitizationPass.Fill(0)], "zero", VerificationMode.None);

        Assert.Contains(report.Caveats, c => c.StartsWith("The file is sparse", StringComparison.Ordinal));
        Assert.Contains(report.Caveats, c => c.StartsWith("The file has 2 hard links", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SanitizeFileAsync_Discard_ReleasesTheVerifiedBlocks()
    {
        string file = OldImage();
        var options = new SanitizerOptions { BlockSize = 64 * 1024, Discard = true };

        SanitizationReport report = await new BlockSanitizer(options).SanitizeFileAsync(file, SanitizationMethod.Random);

        Assert.True(report.Succeeded);
        Assert.True(report.Discarded);
        Assert.True(SecureMigration.Storage.Posix.Stat(file)!.Value.AllocatedBytes < 64 * 1024, "the blocks were released");
        Assert.Equal(Size, new FileInfo(file).Length);
        Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOfAnyExcept((byte)0));
    }

    [Fact]
    public async Task SanitizeFileAsync_ImageLockedByAHypervisor_IsRefusedUnlessForced()
    {
        string file = OldImage();
        byte[] old = File.ReadAllBytes(file);
        // QEMU holds an OFD write lock on the image of a running VM; take one the same way.
        using var hypervisor = new SafeFileHandle(Posix.Open(file, Posix.ReadWrite, 0), ownsHandle: true);
        Assert.True(Posix.TryLockAsHypervisor((int)hypervisor.DangerousGetHandle()));

        var refused = await Assert.ThrowsAsync<FileInUseException>(() => Sanitizer().SanitizeFileAsync(file, SanitizationMethod.Zero));
        Assert.Contains("holds a lock", refused.Message, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(file));

        SanitizationReport forced = await new BlockSanitizer(new SanitizerOptions { BlockSize = 64 * 1024,
            Force = true }).SanitizeFileAsync(file, SanitizationMethod.Zero);
        Assert.True(forced.Succeeded);
    }

    [RequiresLoopDeviceFact]
    public async Task SanitizeFileAsync_BlockDevice_TakesItsSizeFromTheDeviceOverwritesAndDiscards()
    {
        string backing = OldImage();
        SanitizationReport report;
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            report = await DeviceSanitizer().SanitizeFileAsync(device.Path, SanitizationMethod.Ones);
        }

        Assert.True(report.Succeeded);
        Assert.Equal(Size / 512 * 512, report.TargetSize);
        Assert.StartsWith("Overwrite of what the block device exposes", report.Caveats[0], StringComparison.Ordinal);
        Assert.Equal(-1, File.ReadAllBytes(backing).AsSpan(0, (int)report.TargetSize).IndexOfAnyExcept((byte)0xFF));
    }

    [RequiresLoopDeviceFact]
    public async Task SanitizeFileAsync_BlockDeviceWithoutOptIn_IsRefusedAndLeftIntact()
    {
        // Defense: block devices are wiped only with SanitizerOptions.AllowBlockDevices (--allow-block-device).
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using (LoopDevice device = LoopDevice.Attach(backing))
        {
            var refused = await Assert.ThrowsAsync<BlockDeviceRefusedException>(() => Sanitizer().SanitizeFileAsync(device.Path,
                SanitizationMethod.Zero));
            Assert.Equal(device.Path, refused.Device);
            Assert.Contains("--allow-block-device", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(old, File.ReadAllBytes(backing));
    }

    [RequiresLoopDeviceFact(Mountable = true)]
    public async Task SanitizeFileAsync_MountedBlockDevice_IsRefusedAndLeftIntact()
    {
        // Defense: O_EXCL on the device (the kernel refuses it while mounted) and /proc/self/mountinfo, which names the mount.
        string backing = _dir.File("fs.img");
        File.WriteAllBytes(backing, new byte[8 * 1024 * 1024]);
        Run("mkfs.ext4", "-q", "-F", backing);
        byte[] formatted = File.ReadAllBytes(backing);
        string mountPoint = Directory.CreateDirectory(_dir.File("mnt")).FullName;
        using LoopDevice device = LoopDevice.Attach(backing);
        Run("mount", device.Path, mountPoint);
        try
        {
            var refused = await Assert.ThrowsAsync<BlockDeviceRefusedException>(() => DeviceSanitizer().SanitizeFileAsync(device.Path,
                SanitizationMethod.Zero));
            Assert.Contains($"{device.Path} (the device itself) is mounted at {mountPoint}", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Run("umount", mountPoint);
        }

        // Mounting updates the superblock's counters, so compare what matters: the file system is still there.
        byte[] after = File.ReadAllBytes(backing);
        Assert.Equal(0xEF53, BitConverter.ToUInt16(after, 1024 + 56));
        Assert.Equal(formatted.Length, after.Length);
    }

    [RequiresLoopDeviceFact(Partitioned = true)]
    public async Task SanitizeFileAsync_BlockDeviceWithAMountedPartition_IsRefusedAndNamesThePartition()
    {
        // Defense: O_EXCL on the whole disk (a mounted partition claims it), and /proc/self/mountinfo against its partitions
        // (/sys/class/block), which names the partition.
        string backing = _dir.File("disk.img");
        File.WriteAllBytes(backing, new byte[24 * 1024 * 1024]);
        RunWithInput("label: dos\n,12M\n,\n", "sfdisk", "-q", backing);
        string mountPoint = Directory.CreateDirectory(_dir.File("mnt")).FullName;
        byte[] before;
        using (LoopDevice device = LoopDevice.AttachPartitioned(backing))
        {
            string partition = device.Path + "p1";
            Run("mkfs.ext4", "-q", "-F", partition);
            Run("mount", partition, mountPoint);
            try
            {
                before = File.ReadAllBytes(backing);
                var refused = await Assert.ThrowsAsync<BlockDeviceRefusedException>(() => DeviceSanitizer().SanitizeFileAsync(device.Path,
                    SanitizationMethod.Zero));
                Assert.Contains($"{partition} (a partition of {device.Path}) is mounted at {mountPoint}", refused.Message,
                    StringComparison.Ordinal);
            }
            finally
            {
                Run("umount", mountPoint);
            }
        }

        // The partition table and everything past the mounted file system (its counters change on unmount) are untouched.
        byte[] after = File.ReadAllBytes(backing);
        Assert.Equal(before.AsSpan(0, 1024 * 1024).ToArray(), after.AsSpan(0, 1024 * 1024).ToArray());
        Assert.Equal(before.AsSpan(13 * 1024 * 1024).ToArray(), after.AsSpan(13 * 1024 * 1024).ToArray());
    }

    [RequiresLoopDeviceFact]
    public async Task SanitizeFileAsync_BlockDeviceHeldExclusivelyByAnother_IsRefused()
    {
        // Defense: the device is opened with O_EXCL, which fails while another user holds it exclusively.
        string backing = OldImage();
        byte[] old = File.ReadAllBytes(backing);
        using (LoopDevice device = LoopDevice.Attach(backing))
        using (var holder = new SafeFileHandle(Posix.Open(device.Path, Posix.ReadWrite | Posix.Exclusive, 0), ownsHandle: true))
        {
            Assert.False(holder.IsInvalid);
            var refused = await Assert.ThrowsAsync<BlockDeviceRefusedException>(() => DeviceSanitizer().SanitizeFileAsync(device.Path,
                SanitizationMethod.Zero));
            Assert.Contains("holds it exclusively", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(old, File.ReadAllBytes(backing));
    }

    private static void RunWithInput(string input, string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program,
            arguments) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {errors}");
    }

    private static void Run(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program,
            arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {errors}");
    }

    [Fact]
    public async Task SanitizeFileAsync_SymbolicLinkToAnotherFile_IsRefusedAndItsTargetSurvives()
    {
        // Defense: the wipe's open never follows a symbolic link (openat2 RESOLVE_NO_SYMLINKS, O_NOFOLLOW).
        string victim = OldImage();
        byte[] old = File.ReadAllBytes(victim);
        string planted = _dir.File("residue.img");
        File.CreateSymbolicLink(planted, victim);

        var refused = await Assert.ThrowsAsync<SymbolicLinkRefusedException>(() => Sanitizer().SanitizeFileAsync(planted,
            SanitizationMethod.Zero));

        Assert.Equal(planted, refused.Link);
        Assert.Contains("is a symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.Contains("realpath", refused.Message, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(victim));
        Assert.False(File.Exists(planted + ".secmig-wipe"));
    }

    [Fact]
    public async Task SanitizeFileAsync_PathThroughASymbolicallyLinkedDirectory_IsRefusedAndNamesTheLink()
    {
        // Defense: no symbolic link anywhere in the path (openat2 RESOLVE_NO_SYMLINKS, or the resolved-path check without openat2).
        string victim = OldImage();
        byte[] old = File.ReadAllBytes(victim);
        string sharedLink = _dir.File("shared");
        Directory.CreateSymbolicLink(sharedLink, _dir.Path);

        var refused = await Assert.ThrowsAsync<SymbolicLinkRefusedException>(() => Sanitizer().SanitizeFileAsync(Path.Combine(sharedLink,
            Path.GetFileName(victim)), SanitizationMethod.Zero));

        Assert.Equal(sharedLink, refused.Link);
        Assert.Equal(old, File.ReadAllBytes(victim));
    }

    [Fact]
    public async Task SanitizeFileAsync_FileSwappedBetweenPlanAndOpen_IsRefusedAndNeitherFileIsTouched()
    {
        // Defense: the identity (device, inode) recorded when the wipe is planned is checked on the open descriptor.
        string target = OldImage();
        string victim = OldImage();
        byte[] victimBytes = File.ReadAllBytes(victim);
        var sanitizer = Sanitizer();
        // An insider links a file they may not write under the target's name once the wipe is planned.
        sanitizer.Planned = path => Run("ln", "-f", victim, path);

        var refused = await Assert.ThrowsAsync<FileReplacedException>(() => sanitizer.SanitizeFileAsync(target, SanitizationMethod.Zero));

        Assert.Equal(target, refused.Path);
        Assert.NotEqual(refused.Expected, refused.Actual);
        Assert.Contains("replaced it", refused.Message, StringComparison.Ordinal);
        Assert.Equal(victimBytes, File.ReadAllBytes(victim));
    }

    /// <summary>
    /// Each verifying slot reads its next chunk into its buffer only once it has compared the last. A 5-byte pattern puts each
    /// 64 KiB chunk at another phase, and the chunk read next into the same slot too (3 × 64 KiB is not a multiple of 5), so a
    /// chunk compared against another chunk's read does not match. With <see cref="BlockSanitizer.InlineIo"/> every read has
    /// landed before the comparison starts: a read issued into the buffer still being compared is caught every time, not only
    /// when the device wins the race.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VerifyFileAsync_AMultiBytePattern_EveryChunkComparedWithItsOwnRead_AndAChangeDeepInIsFoundWhereItIs(bool inlineIo)
    {
        string file = OldImage();
        SanitizationPass pattern = SanitizationPass.Fill(0x92, 0x49, 0x24, 0x6D, 0xB6);
        var options = new SanitizerOptions { BlockSize = 64 * 1024, WritesInFlight = 3 };
        Assert.NotEqual(0, options.WritesInFlight * options.BlockSize % pattern.Pattern!.Count);
        BlockSanitizer Sanitizer() => new(options) { InlineIo = inlineIo };
        SanitizationReport wipe = await Sanitizer().SanitizeFileAsync(file, [pattern], "custom", VerificationMode.Full);
        Assert.True(wipe.Succeeded, $"mismatch at {wipe.MismatchOffset}");
        Assert.Null(await Sanitizer().VerifyFileAsync(file, pattern));
        const long Changed = (11 * 64 * 1024) + 4321;
        using (SafeFileHandle handle = File.OpenHandle(file, FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(handle, new byte[] { 0 }, Changed);
        }

        Assert.Equal(Changed, await Sanitizer().VerifyFileAsync(file, pattern));
    }

    [Fact]
    public async Task VerifyFileAsync_UnalignedHeadAndTail_AreReadPastThePageCache()
    {
        // Defense: verification reads unaligned heads and tails with O_DIRECT too, so it checks the medium, not the cache.
        string file = OldImage();
        SanitizationReport wipe = await new BlockSanitizer(new SanitizerOptions { BlockSize = 64 * 1024,
            Verification = VerificationMode.None }).SanitizeFileAsync(file, SanitizationMethod.Zero);
        Assert.True(wipe.DirectIo, "this test needs a file system that allows O_DIRECT");
        Run("dd", $"if={file}", "iflag=nocache", "count=0");
        Assert.Equal("0", ResidentBytes(file));

        long? mismatch = await Sanitizer().VerifyFileAsync(file, SanitizationPass.Fill(0), [new Extent(100, 5000), new Extent(Size - 123,
            123)]);

        Assert.Null(mismatch);
        Assert.Equal("0", ResidentBytes(file));
    }

    /// <summary>How many bytes of the file the page cache holds (fincore, util-linux).</summary>
    private static string ResidentBytes(string file)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("fincore", ["--bytes", "--noheadings",
            "--output", "RES", file]) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    [Fact]
    public async Task SanitizeFileAsync_EmptyFile_SucceedsWithNothingToOverwrite()
    {
        File.WriteAllBytes(_dir.File("empty.img"), []);

        SanitizationReport report = await Sanitizer().SanitizeFileAsync(_dir.File("empty.img"), SanitizationMethod.Zero);

        Assert.True(report.Succeeded);
        Assert.Empty(report.Extents);
    }

    [Fact]
    public async Task SanitizeFileAsync_MissingFile_SaysWhich()
    {
        var missing = await Assert.ThrowsAsync<FileNotFoundException>(() => Sanitizer().SanitizeFileAsync(_dir.File("nope.img"),
            SanitizationMethod.Zero));

        Assert.Contains("nope.img", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SanitizationMethod.Zero)]
    [InlineData(SanitizationMethod.Ones)]
    [InlineData(SanitizationMethod.Random)]
    [InlineData(SanitizationMethod.Gutmann)]
    public void SanitizeMemory_EveryMethod_VerifiesItsLastPass(SanitizationMethod method)
    {
        byte[] secret = RandomNumberGenerator.GetBytes(1_000_003);
        byte[] copy = (byte[])secret.Clone();

        SanitizationReport report = Sanitizer().SanitizeMemory(secret, method);

        Assert.True(report.Succeeded);
        Assert.InRange(secret.Zip(copy).Count(p => p.First == p.Second), 0, secret.Length / 64);
    }

    private static SanitizerOptions ResumableOptions() =>
        new() { BlockSize = 64 * 1024, WritesInFlight = 2, CheckpointInterval = 256 * 1024,
            CheckpointKey = HostKey.FromSecret(new byte[HostKey.Length]) };

    /// <summary>Runs a DoD wipe until it is halfway through its third (random) pass, then cancels it.</summary>
    private static async Task<SanitizationReport> InterruptInsideTheRandomPassAsync(string file, SanitizerOptions options)
    {
        using var stop = new CancellationTokenSource();
        var stopHalfwayThroughTheRandomPass = new SynchronousProgress<SanitizationProgress>(p =>
        {
            if (p.Pass == 3 && p.Stage == "write" && p.Bytes > p.Total / 2)
            {
                stop.Cancel();
            }
        });
        return await new BlockSanitizer(options).SanitizeFileAsync(file, SanitizationMethod.DoD522022M,
            progress: stopHalfwayThroughTheRandomPass, cancellationToken: stop.Token);
    }

    private static BlockSanitizer Sanitizer() => new(new SanitizerOptions { BlockSize = 64 * 1024, WritesInFlight = 3 });

    private static BlockSanitizer DeviceSanitizer() => new(new SanitizerOptions { BlockSize = 64 * 1024, AllowBlockDevices = true });

    private string OldImage()
    {
        string file = _dir.File($"old-{Guid.NewGuid():N}.img");
        File.WriteAllBytes(file, RandomNumberGenerator.GetBytes(Size));
        return file;
    }

    /// <summary>A synchronous progress sink (Progress&lt;T&gt; would post to the thread pool, too late for the test).</summary>

    /// <summary>Wipes <paramref name="file"/> again, asserts the wipe did not resume from a checkpoint and succeeded, and returns the
    /// passes it wrote.</summary>
    private static async Task<IReadOnlySet<int>> WipeAgainFromTheStartAsync(string file, SanitizerOptions options)
    {
        var passesWritten = new HashSet<int>();
        SanitizationReport again = await new BlockSanitizer(options).SanitizeFileAsync(file, SanitizationMethod.DoD522022M,
            progress: new SynchronousProgress<SanitizationProgress>(p => passesWritten.Add(p.Pass)));

        Assert.False(again.Resumed);
        Assert.True(again.Succeeded);
        return passesWritten;
    }
}
