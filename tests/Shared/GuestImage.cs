using System.Diagnostics;

namespace SecureMigration.TestGuests;

/// <summary>
/// A tiny multiboot guest for QEMU, assembled with the system's <c>as</c> and <c>ld</c>: it fills its RAM above 2 MiB
/// with a pattern derived from each word's address (so no page is a zero page QEMU could skip), then forever stamps a
/// generation number on the first word of each page of a sliding 256 KiB window, slowly enough for pre-copy to converge.
/// The tests check copies of its memory against the pattern; the QEMU migration benchmark migrates it.
/// </summary>
internal static class GuestImage
{
    /// <summary>Where the guest keeps its generation counter; the end of RAM and the "filled" marker follow it.</summary>
    public const long CounterAddress = 0x1F0000;

    /// <summary>The first patterned byte.</summary>
    public const long PatternBase = 0x200000;

    /// <summary>The marker the guest writes at <see cref="CounterAddress"/> + 8 once its RAM is filled.</summary>
    public const uint FilledMarker = 0x600DF111;

    private const string Source = """
                .set MAGIC, 0x1BADB002
                .set FLAGS, 0x00000002          # ask for the memory size (mem_upper)
                .set COUNTER, 0x001F0000
                .set BASE,    0x00200000
                .set WINDOW,  0x00040000
                .text
                .code32
                .align 4
                .long MAGIC, FLAGS, -(MAGIC + FLAGS)
                .globl _start
        _start: cli
                mov     8(%ebx), %ecx           # mem_upper: KiB above 1 MiB
                shl     $10, %ecx
                add     $0x100000, %ecx         # ecx = end of RAM
                mov     %ecx, COUNTER+4
                movl    $0, COUNTER
                mov     $BASE, %edi
        fill:   mov     %edi, %eax
                imul    $0x9E3779B1, %eax, %eax # pattern(address) = address * 0x9E3779B1
                mov     %eax, (%edi)
                add     $4, %edi
                cmp     %ecx, %edi
                jb      fill
                movl    $0x600DF111, COUNTER+8
                mov     $BASE, %esi
        dirty:  incl    COUNTER
                mov     COUNTER, %edx
                mov     %esi, %edi
                lea     WINDOW(%esi), %ebx
        1:      mov     %edx, (%edi)            # first word of each page in the window = generation
                add     $4096, %edi
                cmp     %ebx, %edi
                jb      1b
                add     $WINDOW, %esi
                lea     WINDOW(%esi), %eax
                cmp     %ecx, %eax
                jbe     2f
                mov     $BASE, %esi
        2:      mov     $2000000, %eax
        3:      dec     %eax
                jnz     3b
                jmp     dirty
        """;

    /// <summary>The pattern word the guest writes at <paramref name="address"/>.</summary>
    public static uint Pattern(long address) => unchecked((uint)address * 0x9E3779B1u);

    /// <summary>Assembles and links the guest in <paramref name="directory"/>; returns the ELF image's path.</summary>
    /// <exception cref="InvalidOperationException">as or ld failed; the message carries their errors.</exception>
    public static async Task<string> BuildAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        string source = Path.Combine(directory, "guest.S");
        string image = Path.Combine(directory, "guest.elf");
        await File.WriteAllTextAsync(source, Source);
        await RunAsync("as", "--32", "-o", Path.Combine(directory, "guest.o"), source);
        await RunAsync("ld", "-m", "elf_i386", "-Ttext", "0x100000", "-e", "_start", "-o", image, Path.Combine(directory, "guest.o"));
        return image;
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed building the test guest (install binutils): {errors}");
        }
    }
}
