using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// The purge capabilities of an NVMe controller, from its Identify Controller data (NVMe base specification 2.0, figure 275):
/// OACS bit 1 (Format NVM), FNA (what a format erases) and SANICAP (which sanitize actions the controller supports).
/// </summary>
internal static unsafe class NvmeIdentify
{
    private const int Length = 4096;

    /// <summary>Asks the controller behind an NVMe block device for its Identify Controller data (an admin command; needs
    /// <c>CAP_SYS_ADMIN</c>).</summary>
    /// <returns>The data, or <see langword="null"/> with <paramref name="problem"/> saying why.</returns>
    public static byte[]? Read(int descriptor, out string? problem)
    {
        // struct nvme_passthru_cmd (72 bytes): opcode, flags, rsvd, nsid, cdw2, cdw3, metadata, addr, metadata_len, data_len,
        // cdw10..cdw15, timeout_ms, result.
        const nuint AdminCommand = 0xC0484E41; // _IOWR('N', 0x41, struct nvme_passthru_cmd)
        byte* data = (byte*)NativeMemory.AlignedAlloc(Length, Length);
        try
        {
            // A controller that transfers less leaves zeros, never the heap's old bytes, to parse.
            NativeMemory.Clear(data, Length);
            Span<byte> command = stackalloc byte[72];
            command.Clear();
            command[0] = 0x06; // Identify
            BinaryPrimitives.WriteUInt64LittleEndian(command[24..], (ulong)data);
            BinaryPrimitives.WriteUInt32LittleEndian(command[36..], Length);
            BinaryPrimitives.WriteUInt32LittleEndian(command[40..], 1); // CNS 01h: the controller
            BinaryPrimitives.WriteUInt32LittleEndian(command[64..], 5000);
            int result = Posix.IoctlBuffer(descriptor, AdminCommand, ref command[0]);
            if (result != 0)
            {
                // Negative: the ioctl failed (errno); positive: the controller's own status for the command.
                problem = result < 0
                    ? $"errno {Marshal.GetLastPInvokeError()}; it needs CAP_SYS_ADMIN"
                    : $"NVMe status 0x{result:X}";
                return null;
            }

            problem = null;
            return new ReadOnlySpan<byte>(data, Length).ToArray();
        }
        finally
        {
            NativeMemory.AlignedFree(data);
        }
    }

    /// <summary>The purges the controller offers, each with the <c>nvme-cli</c> command that would run it.</summary>
    public static List<string> Offered(ReadOnlySpan<byte> controller)
    {
        var offered = new List<string>();
        if (controller.Length < Length)
        {
            return offered;
        }

        uint sanitize = BinaryPrimitives.ReadUInt32LittleEndian(controller[328..]);
        if ((sanitize & 1) != 0)
        {
            offered.Add("NVMe Sanitize, crypto erase (nvme sanitize DEVICE --sanact=4)");
        }

        if ((sanitize & 2) != 0)
        {
            offered.Add("NVMe Sanitize, block erase (nvme sanitize DEVICE --sanact=2)");
        }

        if ((sanitize & 4) != 0)
        {
            offered.Add("NVMe Sanitize, overwrite (nvme sanitize DEVICE --sanact=3)");
        }

        ushort adminCommands = BinaryPrimitives.ReadUInt16LittleEndian(controller[256..]);
        if ((adminCommands & 2) != 0)
        {
            byte formatAttributes = controller[524];
            // FNA bit 0: a format applies to every namespace; bit 1: so does its secure erase.
            string scope = (formatAttributes & 3) != 0 ? ", erases every namespace of the controller" : string.Empty;
            if ((formatAttributes & 4) != 0)
            {
                offered.Add($"NVMe Format with cryptographic erase (nvme format DEVICE --ses=2{scope})");
            }

            offered.Add($"NVMe Format with user-data erase (nvme format DEVICE --ses=1{scope})");
        }

        return offered;
    }
}
