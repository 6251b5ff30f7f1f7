using System.Buffers.Binary;
using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

/// <summary>
/// Issue 20: what a drive offers for a purge, read from its identify data as the standards lay it out (NVMe Identify
/// Controller, ATA IDENTIFY DEVICE, SCSI REPORT SUPPORTED OPERATION CODES), and said plainly for devices with no drive of their own.
/// </summary>
public sealed class PurgeCapabilityTests
{
    [Fact]
    public void Nvme_SanitizeActionsAndFormatWithCryptoErase_AreEachOffered()
    {
        byte[] controller = new byte[4096];
        BinaryPrimitives.WriteUInt32LittleEndian(controller.AsSpan(328), 0b101); // SANICAP: crypto erase, overwrite
        BinaryPrimitives.WriteUInt16LittleEndian(controller.AsSpan(256), 0b10); // OACS: Format NVM
        controller[524] = 0b110; // FNA: secure erase applies to all namespaces, crypto erase supported

        List<string> offered = NvmeIdentify.Offered(controller);

        Assert.Equal(
        [
            "NVMe Sanitize, crypto erase (nvme sanitize DEVICE --sanact=4)",
            "NVMe Sanitize, overwrite (nvme sanitize DEVICE --sanact=3)",
            "NVMe Format with cryptographic erase (nvme format DEVICE --ses=2, erases every namespace of the controller)",
            "NVMe Format with user-data erase (nvme format DEVICE --ses=1, erases every namespace of the controller)",
        ], offered);
    }

    [Fact]
    public void Nvme_WithoutSanitizeOrFormat_OffersNothing_AndShortDataIsNotRead()
    {
        Assert.Empty(NvmeIdentify.Offered(new byte[4096]));
        Assert.Empty(NvmeIdentify.Offered(new byte[100]));
    }

    [Fact]
    public void Ata_SanitizeAndEnhancedSecurityErase_AreOffered_AndAFrozenDriveIsSaid()
    {
        byte[] identify = new byte[512];
        Word(identify, 59, (1 << 12) | (1 << 13) | (1 << 15)); // sanitize: crypto scramble, block erase
        Word(identify, 82, 1 << 1); // security feature set supported
        Word(identify, 128, 1 | (1 << 3) | (1 << 5)); // supported, frozen, enhanced erase supported
        Word(identify, 89, 30); // 60 minutes
        Word(identify, 90, 255); // more than 508 minutes

        (List<string> offered, string? obstacle) = AtaIdentify.Offered(identify);

        Assert.Equal(
        [
            "ATA Sanitize, crypto scramble (hdparm --sanitize-crypto-scramble DEVICE)",
            "ATA Sanitize, block erase (hdparm --sanitize-block-erase DEVICE)",
            "ATA Security Erase Unit, enhanced (hdparm --security-erase-enhanced PASSWORD DEVICE; over 508 minutes)",
            "ATA Security Erase Unit (hdparm --security-erase PASSWORD DEVICE; about 60 minutes)",
        ], offered);
        Assert.Contains("frozen", obstacle, StringComparison.Ordinal);
    }

    [Fact]
    public void Nvme_FormatThatAppliesToEveryNamespace_SaysSo()
    {
        byte[] controller = new byte[4096];
        BinaryPrimitives.WriteUInt16LittleEndian(controller.AsSpan(256), 0b10); // OACS: Format NVM
        controller[524] = 0b001; // FNA: a format applies to all namespaces

        Assert.Equal(["NVMe Format with user-data erase (nvme format DEVICE --ses=1, erases every namespace of the controller)"],
            NvmeIdentify.Offered(controller));
    }

    [Theory]
    [InlineData(0x0000)]
    [InlineData(0xFFFF)]
    public void Ata_AWordThatIsNotValid_OffersNothing(int word82)
    {
        byte[] identify = new byte[512];
        Word(identify, 59, 0xFFFF);
        Word(identify, 82, word82);
        Word(identify, 128, 0b10_0001); // supported, enhanced erase

        (List<string> offered, _) = AtaIdentify.Offered(identify);

        Assert.Empty(offered);
    }

    [Fact]
    public void Ata_WithoutTheFeatureSets_OffersNothing()
    {
        byte[] identify = new byte[512];
        Word(identify, 128, 1 << 5); // enhanced erase, but the security feature set is not supported (word 82)

        (List<string> offered, string? obstacle) = AtaIdentify.Offered(identify);

        Assert.Empty(offered);
        Assert.Null(obstacle);
    }

    [Theory]
    [InlineData(0b011, true)]
    [InlineData(0b101, true)]
    [InlineData(0b001, false)]
    [InlineData(0b000, false)]
    [InlineData(0b1000_0011, true)]
    public void Scsi_SupportField_IsReadAsSpc5Says(byte secondByte, bool supported) =>
        Assert.Equal(supported, ScsiSanitize.IsSupported(secondByte));

    [Fact]
    public void VolumesAndVirtualDisks_SayWhereAPurgeWouldHaveToHappen_AndThatNoneRan()
    {
        var volume = new BlockDeviceProperties
        {
            Name = "dm-3", Transport = "device-mapper", Size = 1, LogicalBlockSize = 512, PhysicalBlockSize = 512,
            BuiltOn = ["sda2", "sdb1"],
        };
        var virtualDisk = volume with { Name = "vda1", Transport = "virtio", BuiltOn = [], PartitionOf = "vda" };

        PurgeCapabilities ofVolume = PurgeProbe.Probe(-1, volume);
        PurgeCapabilities ofVirtualDisk = PurgeProbe.Probe(-1, virtualDisk);

        Assert.Empty(ofVolume.Offered);
        Assert.Contains("built on sda2, sdb1", ofVolume.Assessment, StringComparison.Ordinal);
        Assert.EndsWith(PurgeProbe.NotRun, ofVolume.Assessment, StringComparison.Ordinal);
        Assert.Contains("hypervisor's storage", ofVirtualDisk.Assessment, StringComparison.Ordinal);
        Assert.EndsWith(PurgeProbe.NotRun, ofVirtualDisk.Assessment, StringComparison.Ordinal);
    }

    private static void Word(byte[] identify, int word, int value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(identify.AsSpan(word * 2), (ushort)value);
}
