using System.Diagnostics;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using SecureMigration.Sanitization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// In-memory cases that measure design choices, one core, the sanitizer's block size (1 MiB) each: the AES-128-CTR
/// keystream the random passes use against AES-256-CTR (the choice before ADR 0024) and the two other ways to make the
/// bytes — the operating system's CSPRNG (<see cref="RandomNumberGenerator.Fill"/>) and ChaCha20 (BouncyCastle's
/// <see cref="ChaCha7539Engine"/>, encrypting a zero buffer: its only keystream interface) — and a memory wipe with its
/// default full verification against one without.
/// </summary>
internal static class KeystreamComparison
{
    /// <summary>The buffer of every case, the sanitizer's default block size.</summary>
    public const int BufferSize = 1024 * 1024;

    /// <summary>The AES-CTR keystream's case.</summary>
    public const string Keystream = "keystream AES-128-CTR (ours), 1 MiB";

    /// <summary>The same keystream under AES-256, the cipher before ADR 0024.</summary>
    public const string Keystream256 = "keystream AES-256-CTR, 1 MiB";

    /// <summary>The OS CSPRNG's case.</summary>
    public const string Rng = "RandomNumberGenerator.Fill, 1 MiB";

    /// <summary>ChaCha20's case.</summary>
    public const string ChaCha = "ChaCha20 (BouncyCastle), 1 MiB";

    /// <summary>The verified memory wipe's case.</summary>
    public const string MemoryVerified = "memory wipe zero, full verification, 256 MiB";

    /// <summary>The unverified memory wipe's case.</summary>
    public const string MemoryUnverified = "memory wipe zero, no verification, 256 MiB";

    /// <summary>Runs each case for about a second; returns (case, bytes, wall seconds, CPU seconds).</summary>
    public static List<(string Case, long Bytes, double Seconds, double Cpu)> Run()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        byte[] zeros = new byte[BufferSize];
        using var keystream = new AesCtrKeystream();
        using var keystream256 = new AesCtrKeystream(RandomNumberGenerator.GetBytes(AesCtrKeystream.LegacyKeyLength), 0);
        var chacha = new ChaCha7539Engine();
        chacha.Init(true, new ParametersWithIV(new KeyParameter(RandomNumberGenerator.GetBytes(32)), RandomNumberGenerator.GetBytes(12)));
        List<(string, long, double, double)> results =
        [
            Loop(Keystream, offset => keystream.Generate(offset, buffer)),
            Loop(Keystream256, offset => keystream256.Generate(offset, buffer)),
            Loop(Rng, _ => RandomNumberGenerator.Fill(buffer)),
            Loop(ChaCha, _ => chacha.ProcessBytes(zeros, buffer)),
        ];
        byte[] memory = GC.AllocateUninitializedArray<byte>(256 * 1024 * 1024, pinned: true);
        var sanitizer = new BlockSanitizer();
        results.Add(Loop(MemoryVerified, _ => sanitizer.SanitizeMemory(memory, SanitizationMethod.Zero, VerificationMode.Full),
            memory.Length));
        results.Add(Loop(MemoryUnverified, _ => sanitizer.SanitizeMemory(memory, SanitizationMethod.Zero, VerificationMode.None),
            memory.Length));
        return results;
    }

    private static (string, long, double, double) Loop(string name, Action<long> step, long size = BufferSize)
    {
        step(0);
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long done = 0;
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 1000)
        {
            step(done);
            done += size;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        return (name, done, seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }
}
