using System.Globalization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Gives fio the same kind of buffer pages the sanitizer gets. The sanitizer's aligned pool asks for transparent huge
/// pages (<c>madvise</c>), so each O_DIRECT call pins a few 2 MiB pages instead of 256 small ones per MiB; fio at its
/// defaults (<c>iomem=malloc</c>) pins small pages, which on a RAM-backed device alone made its write about 1.35× slower.
/// Whenever transparent huge pages are not off, this reserves a few hugetlb pages for the run and has fio take its
/// buffers from them (<c>--iomem=shmhuge</c>); the reservation is undone on <see cref="Dispose"/>. Where the pages cannot
/// be reserved, fio keeps malloc and the record says so.
/// </summary>
internal sealed class FioBufferPages : IDisposable
{
    private const string Reserved = "/proc/sys/vm/nr_hugepages";
    private const string TransparentMode = "/sys/kernel/mm/transparent_hugepage/enabled";

    private readonly int? _before;

    private FioBufferPages(string memory, string why, int? before)
    {
        Memory = memory;
        Why = why;
        _before = before;
    }

    /// <summary>Gets fio's <c>--iomem</c> value: <c>shmhuge</c> or <c>malloc</c>.</summary>
    public string Memory { get; }

    /// <summary>Gets why fio got these pages, for the record.</summary>
    public string Why { get; }

    /// <summary>Reserves <paramref name="pages"/> more 2 MiB hugetlb pages when the sanitizer's buffers can get huge pages.</summary>
    public static FioBufferPages Reserve(int pages)
    {
        string mode = File.Exists(TransparentMode) ? File.ReadAllText(TransparentMode).Trim() : "absent";
        if (!mode.Contains("[always]", StringComparison.Ordinal) && !mode.Contains("[madvise]", StringComparison.Ordinal))
        {
            return new FioBufferPages("malloc", $"transparent huge pages are '{mode}': the sanitizer gets small pages too", null);
        }

        int before = int.Parse(File.ReadAllText(Reserved).Trim(), CultureInfo.InvariantCulture);
        File.WriteAllText(Reserved, (before + pages).ToString(CultureInfo.InvariantCulture));
        int free = HugePagesFree();
        return free >= pages
            ? new FioBufferPages("shmhuge", $"transparent huge pages '{mode}' (the sanitizer's pool asks for them); {pages} hugetlb " +
                $"pages reserved for fio, {free} free", before)
            : new FioBufferPages("malloc", $"only {free} of {pages} hugetlb pages could be reserved (memory fragmented): fio kept malloc",
                before);
    }

    /// <summary>The name–value pairs of the run's record.</summary>
    public IEnumerable<KeyValuePair<string, string>> Record() => [new("fio_iomem", Memory), new("fio_iomem_why", Why)];

    /// <summary>Gives the reserved pages back.</summary>
    public void Dispose()
    {
        if (_before is int before)
        {
            File.WriteAllText(Reserved, before.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int HugePagesFree() => int.Parse(File.ReadLines("/proc/meminfo")
        .First(l => l.StartsWith("HugePages_Free:", StringComparison.Ordinal))["HugePages_Free:".Length..].Trim(),
        CultureInfo.InvariantCulture);
}
