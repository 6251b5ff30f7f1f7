using System.Buffers.Binary;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.TestGuests;

namespace SecureMigration.Tests.Qemu.Harness;

/// <summary>
/// The test side of <see cref="GuestImage"/>: builds it once per test run (requiring <c>as</c> and <c>ld</c>) and
/// checks dumps of its memory byte for byte.
/// </summary>
public static class TestGuest
{
    private static readonly Lazy<Task<string>> Built = new(() =>
    {
        ExternalProgram.Require("as");
        ExternalProgram.Require("ld");
        return GuestImage.BuildAsync(Path.Combine(Path.GetTempPath(), "secmig-guest-" + Environment.ProcessId));
    });

    /// <summary>Gets the guest's ELF image, assembling it once per test run.</summary>
    public static Task<string> ImageAsync() => Built.Value;

    /// <summary>
    /// Checks a dump of the guest's physical memory from address 0: every word of the patterned area is the
    /// pattern, except each page's first word, which is the pattern or a generation the counter already passed.
    /// </summary>
    /// <returns>The generation counter in the dump.</returns>
    public static uint Verify(ReadOnlySpan<byte> memory)
    {
        uint counter = BinaryPrimitives.ReadUInt32LittleEndian(memory[(int)GuestImage.CounterAddress..]);
        uint end = BinaryPrimitives.ReadUInt32LittleEndian(memory[((int)GuestImage.CounterAddress + 4)..]);
        uint marker = BinaryPrimitives.ReadUInt32LittleEndian(memory[((int)GuestImage.CounterAddress + 8)..]);
        Assert.True(marker == GuestImage.FilledMarker, $"The guest had not filled its RAM yet (marker 0x{marker:X8}).");
        Assert.True(end > GuestImage.PatternBase && end <= memory.Length, $"The guest's end of RAM 0x{end:X} is outside the dump of " +
            $"{memory.Length} bytes.");
        for (long address = GuestImage.PatternBase; address < end; address += 4)
        {
            uint word = BinaryPrimitives.ReadUInt32LittleEndian(memory[(int)address..]);
            bool pageHeader = address % 4096 == 0;
            if (word != GuestImage.Pattern(address) && !(pageHeader && word >= 1 && word <= counter))
            {
                Assert.Fail($"Guest memory differs at 0x{address:X}: 0x{word:X8}, expected " +
                    $"0x{GuestImage.Pattern(address):X8}{(pageHeader ? $" or a generation up to {counter}" : string.Empty)}.");
            }
        }

        return counter;
    }
}
