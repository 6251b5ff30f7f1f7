using BenchmarkDotNet.Attributes;
using SecureMigration.Sanitization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// For researchers comparing methods: one pass over a 256 MiB file (O_DIRECT where allowed, fsync included, no
/// read-back) for each method, block size and number of writes in flight, and the same pass over a 256 MiB memory
/// buffer. Results are exported as CSV and JSON next to the GitHub markdown report.
/// </summary>
[MemoryDiagnoser]
[CsvExporter]
[JsonExporterAttribute.Full]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SanitizerBenchmarks
{
    private const long Bytes = 256L * 1024 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("secmig-bench-wipe-").FullName;
    private string _file = null!;
    private byte[] _memory = null!;
    private BlockSanitizer _sanitizer = null!;

    [Params("zero", "random")]
    public string Method { get; set; } = "zero";

    [Params(256, 1024, 4096)]
    public int BlockKib { get; set; }

    [Params(1, 4, 16)]
    public int InFlight { get; set; }

    private IReadOnlyList<SanitizationPass> Passes => Method == "zero" ? [SanitizationPass.Fill(0)] : [SanitizationPass.Random];

    [GlobalSetup]
    public void Setup()
    {
        _file = Path.Combine(_directory, "target.img");
        using (FileStream file = File.Create(_file))
        {
            byte[] chunk = new byte[1 << 20];
            for (long written = 0; written < Bytes; written += chunk.Length)
            {
                file.Write(chunk);
            }

            file.Flush(flushToDisk: true);
        }

        _memory = GC.AllocateUninitializedArray<byte>((int)Bytes, pinned: true);
        _sanitizer = new BlockSanitizer(new SanitizerOptions { BlockSize = BlockKib * 1024, WritesInFlight = InFlight,
            Verification = VerificationMode.None, Resumable = false });
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Description = "file, one pass + fsync")]
    public async Task<bool> OnFile() => (await _sanitizer.SanitizeFileAsync(_file, Passes, Method, VerificationMode.None)).Completed;

    [Benchmark(Description = "memory, one pass")]
    public bool InMemory() => _sanitizer.SanitizeMemory(_memory, Method == "zero" ? SanitizationMethod.Zero : SanitizationMethod.Random,
        VerificationMode.None).Completed;
}
