using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// The purge capabilities of an ATA drive, from its IDENTIFY DEVICE data (ACS-3): word 59 (the sanitize feature set and its
/// crypto scramble, overwrite and block erase), words 82 and 128 (the security feature set, enhanced erase, and whether it is
/// frozen), words 89 and 90 (the erase times).
/// </summary>
internal static class AtaIdentify
{
    private const int Length = 512;

    /// <summary>Reads the drive's IDENTIFY DEVICE data (<c>HDIO_GET_IDENTITY</c>, which libata answers for its disks).</summary>
    /// <returns>The 512 bytes, or <see langword="null"/> with <paramref name="errno"/> set.</returns>
    public static byte[]? Read(int descriptor, out int errno)
    {
        const nuint GetIdentity = 0x030D;
        var identify = new byte[Length];
        if (Posix.IoctlBuffer(descriptor, GetIdentity, ref identify[0]) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return identify;
    }

    /// <summary>The purges the drive offers, each with the <c>hdparm</c> command that would run it, and what stands in the way.</summary>
    public static (List<string> Offered, string? Obstacle) Offered(ReadOnlySpan<byte> identify)
    {
        var offered = new List<string>();
        if (identify.Length < Length)
        {
            return (offered, null);
        }

        ushort sanitize = Word(identify, 59);
        if (sanitize != 0xFFFF && (sanitize & (1 << 12)) != 0)
        {
            if ((sanitize & (1 << 13)) != 0)
            {
                offered.Add("ATA Sanitize, crypto scramble (hdparm --sanitize-crypto-scramble DEVICE)");
            }

            if ((sanitize & (1 << 15)) != 0)
            {
                offered.Add("ATA Sanitize, block erase (hdparm --sanitize-block-erase DEVICE)");
            }

            if ((sanitize & (1 << 14)) != 0)
            {
                offered.Add("ATA Sanitize, overwrite (hdparm --sanitize-overwrite PATTERN DEVICE)");
            }
        }

        ushort security = Word(identify, 128);
        ushort commandSets = Word(identify, 82);
        string? obstacle = null;
        // 0x0000 and 0xFFFF mean the word is not valid (ACS-3), not that every feature is there.
        if (commandSets is not (0 or 0xFFFF) && (commandSets & 2) != 0 && (security & 1) != 0)
        {
            if ((security & (1 << 5)) != 0)
            {
                offered.Add("ATA Security Erase Unit, enhanced (hdparm --security-erase-enhanced PASSWORD " +
                    $"DEVICE{Minutes(Word(identify, 90))})");
            }

            offered.Add($"ATA Security Erase Unit (hdparm --security-erase PASSWORD DEVICE{Minutes(Word(identify, 89))})");
            if ((security & (1 << 3)) != 0)
            {
                obstacle = "the drive's security is frozen (by the firmware at boot): a suspend and resume usually unfreezes it";
            }
            else if ((security & (1 << 2)) != 0)
            {
                obstacle = "the drive's security is locked: it needs its password first";
            }
        }

        return (offered, obstacle);
    }

    private static ushort Word(ReadOnlySpan<byte> identify, int word) => BinaryPrimitives.ReadUInt16LittleEndian(identify[(word * 2)..]);

    /// <summary>An erase time word (ACS-3): in units of two minutes, bits 0-7 or, with bit 15 set, bits 0-14; the largest value means
    /// longer than it says; zero means not given.</summary>
    private static string Minutes(ushort time)
    {
        bool extended = (time & 0x8000) != 0;
        int limit = extended ? 0x7FFF : 0xFF;
        int units = time & limit;
        return units switch
        {
            0 => string.Empty,
            _ when units == limit => $"; over {(limit - 1) * 2} minutes",
            _ => $"; about {units * 2} minutes",
        };
    }
}
