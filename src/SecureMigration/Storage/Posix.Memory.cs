using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>Advice to the kernel about this process's memory.</summary>
internal static partial class Posix
{
    /// <summary>Asks the kernel to back a range with transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>) where it is configured
    /// to (<c>/sys/kernel/mm/transparent_hugepage/enabled</c> not <c>never</c>); returns whether it took the advice. Advice only:
    /// the memory works the same either way.</summary>
    public static bool AdviseHugePages(nint address, nuint length)
    {
        const int HugePage = 14;
        return IsSupported && Madvise(address, length, HugePage) == 0;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
