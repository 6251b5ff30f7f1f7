using System.Security.Cryptography;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// .NET AesGcm sealing 16 KiB records in one thread with no I/O: the cost of the cryptography alone, an upper
/// bound for one direction of any TLS 1.3 AES-256-GCM channel on this machine.
/// </summary>
internal sealed class InProcessAesGcmCase : ITransportCase
{
    private const int RecordSize = 16 * 1024;

    public string Name => "in-process AesGcm, 16 KiB records (no I/O)";

    public Task MoveAsync(long bytes)
    {
        using var aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        byte[] nonce = new byte[12];
        byte[] plaintext = new byte[RecordSize];
        byte[] ciphertext = new byte[RecordSize];
        byte[] tag = new byte[16];
        for (long done = 0; done < bytes; done += RecordSize)
        {
            nonce[11]++;
            aes.Encrypt(nonce, plaintext, ciphertext, tag);
        }

        return Task.CompletedTask;
    }
}
