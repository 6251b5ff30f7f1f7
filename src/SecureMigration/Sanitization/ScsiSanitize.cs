using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Which SANITIZE service actions (SBC-4: overwrite, block erase, cryptographic erase) a SCSI disk supports, asked with
/// REPORT SUPPORTED OPERATION CODES through <c>SG_IO</c>, one service action at a time.
/// </summary>
internal static unsafe class ScsiSanitize
{
    private const byte SanitizeOperation = 0x48;
    private const int ResponseLength = 64;

    private static readonly (ushort Action, string Offer)[] Actions =
    [
        (3, "SCSI SANITIZE, cryptographic erase (sg_sanitize --crypto DEVICE)"),
        (2, "SCSI SANITIZE, block erase (sg_sanitize --block DEVICE)"),
        (1, "SCSI SANITIZE, overwrite (sg_sanitize --overwrite --pattern=FILE DEVICE)"),
    ];

    /// <summary>The SANITIZE actions the disk reports as supported, or <see langword="null"/> when it could not be asked.</summary>
    public static List<string>? Offered(int descriptor, out int errno)
    {
        var offered = new List<string>();
        bool answered = false;
        errno = 0;
        foreach ((ushort action, string offer) in Actions)
        {
            // A disk that refuses one service action may still know another: each is asked.
            if (Support(descriptor, action, out int failure) is not { } support)
            {
                errno = failure;
                continue;
            }

            answered = true;
            if (IsSupported(support))
            {
                offered.Add(offer);
            }
        }

        return answered ? offered : null;
    }

    /// <summary>Whether the SUPPORT field (SPC-5, the low three bits of the response's second byte) says supported, as the standard
    /// defines it (011b) or in a vendor-specific way (101b).</summary>
    internal static bool IsSupported(byte secondByte) => (secondByte & 7) is 3 or 5;

    /// <summary>Asks for one service action of SANITIZE; the response's second byte, or <see langword="null"/> when the disk did not
    /// answer (no SG_IO, CHECK CONDITION: an old disk or a bridge that does not know the command).</summary>
    private static byte? Support(int descriptor, ushort action, out int errno)
    {
        // struct sg_io_hdr (88 bytes on 64-bit Linux).
        const nuint ScsiGenericIo = 0x2285;
        Span<byte> cdb = stackalloc byte[12];
        cdb.Clear();
        cdb[0] = 0xA3; // MAINTENANCE IN
        cdb[1] = 0x0C; // REPORT SUPPORTED OPERATION CODES
        cdb[2] = 0x02; // one command, with its service action
        cdb[3] = SanitizeOperation;
        BinaryPrimitives.WriteUInt16BigEndian(cdb[4..], action);
        BinaryPrimitives.WriteUInt32BigEndian(cdb[6..], ResponseLength);
        Span<byte> response = stackalloc byte[ResponseLength];
        Span<byte> sense = stackalloc byte[32];
        response.Clear();
        Span<byte> header = stackalloc byte[88];
        header.Clear();
        fixed (byte* cdbPointer = cdb, responsePointer = response, sensePointer = sense)
        {
            BinaryPrimitives.WriteInt32LittleEndian(header, 'S');
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], -3); // SG_DXFER_FROM_DEV
            header[8] = (byte)cdb.Length;
            header[9] = (byte)sense.Length;
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], ResponseLength);
            BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)responsePointer);
            BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)cdbPointer);
            BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)sensePointer);
            BinaryPrimitives.WriteUInt32LittleEndian(header[40..], 5000);
            if (Posix.IoctlBuffer(descriptor, ScsiGenericIo, ref header[0]) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                return null;
            }
        }

        errno = 0;
        // status, host status and driver status all zero: the command completed.
        bool good = header[64] == 0 && BinaryPrimitives.ReadUInt16LittleEndian(header[68..]) == 0 &&
            BinaryPrimitives.ReadUInt16LittleEndian(header[70..]) == 0;
        return good ? response[1] : null;
    }
}
