using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SecureMigration.Sanitization;

/// <summary>
/// The random pattern: AES in counter mode under a per-run key, so the byte at any offset can be generated (and so
/// verified) without replaying the stream from the start. Block <c>i</c> of the keystream is <c>AES(key, nonce || i)</c>.
/// New keystreams use AES-128 (ADR 0024: the pattern only has to be unpredictable and reproducible, and AES-128 makes
/// it with about 0.7 of AES-256's CPU); a 32-byte key, from a checkpoint written before, selects AES-256. Uses OpenSSL's
/// AES-CTR where available (hardware AES on wide vectors), .NET's AES otherwise. The key is wiped on
/// <see cref="Dispose"/>. Not thread-safe: one instance per thread.
/// </summary>
internal sealed unsafe class AesCtrKeystream : IDisposable
{
    /// <summary>The length of a new keystream's key, in bytes (AES-128).</summary>
    public const int KeyLength = 16;

    /// <summary>The length of an AES-256 key, which keystreams resumed from older checkpoints use.</summary>
    public const int LegacyKeyLength = 32;

    private const int BlockLength = 16;
    private const int Chunk = 16 * 1024;
    private static readonly byte[] Zeros = new byte[Chunk];

    private readonly byte[] _key;
    private readonly ulong _nonce;
    private readonly nint _context;
    private readonly Aes? _managed;
    private bool _disposed;

    /// <summary>Creates a keystream with a fresh random key and nonce.</summary>
    public AesCtrKeystream()
        : this(RandomNumberGenerator.GetBytes(KeyLength), BinaryPrimitives.ReadUInt64BigEndian(RandomNumberGenerator.GetBytes(8)))
    {
    }

    /// <summary>Creates a keystream from a known key and nonce (to verify a wipe, or in tests).</summary>
    /// <param name="key">The key, 16 bytes (AES-128) or 32 (AES-256); copied.</param>
    /// <param name="nonce">The nonce, the upper half of every counter block.</param>
    public AesCtrKeystream(ReadOnlySpan<byte> key, ulong nonce)
        : this(key, nonce, LibCrypto.IsAvailable)
    {
    }

    /// <summary>Creates a keystream, choosing the implementation (the two must agree byte for byte).</summary>
    internal AesCtrKeystream(ReadOnlySpan<byte> key, ulong nonce, bool useOpenSsl)
    {
        if (key.Length is not (KeyLength or LegacyKeyLength))
        {
            throw new ArgumentException(
                $"An AES-CTR keystream needs a {KeyLength}-byte (AES-128) or {LegacyKeyLength}-byte (AES-256) key, and {key.Length} " +
                "bytes were given.", nameof(key));
        }

        _key = key.ToArray();
        _nonce = nonce;
        if (useOpenSsl)
        {
            _context = LibCrypto.CipherContextNew();
            fixed (byte* k = _key)
            {
                nint cipher = _key.Length == KeyLength ? LibCrypto.Aes128Ctr() : LibCrypto.Aes256Ctr();
                if (_context == 0 || LibCrypto.EncryptInit(_context, cipher, 0, k, null) != 1)
                {
                    throw new CryptographicException($"OpenSSL could not set up {CipherName}.");
                }
            }
        }
        else
        {
            _managed = Aes.Create();
            _managed.Key = _key;
        }
    }

    /// <summary>Gets whether OpenSSL generates the keystream (otherwise .NET's AES does, more slowly).</summary>
    public bool UsesOpenSsl => _context != 0;

    /// <summary>Gets the cipher's name, <c>AES-128-CTR</c> or <c>AES-256-CTR</c>.</summary>
    public string CipherName => _key.Length == KeyLength ? "AES-128-CTR" : "AES-256-CTR";

    /// <summary>Gets the nonce, for the report.</summary>
    public ulong Nonce => _nonce;

    /// <summary>Copies the key, for a wipe's checkpoint (so a resumed pass writes, and verifies, the same stream).</summary>
    internal byte[] ExportKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return (byte[])_key.Clone();
    }

    /// <summary>Creates another instance of the same stream (same key, nonce and implementation), for another thread: each I/O
    /// slot of a pass generates its own blocks (<see cref="BlockFill"/>). Dispose it too: it holds a copy of the key.</summary>
    internal AesCtrKeystream Clone()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new AesCtrKeystream(_key, _nonce, UsesOpenSsl);
    }

    /// <summary>Writes the keystream bytes at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
    /// <param name="offset">The keystream offset of the first byte (any offset; a multiple of 16 is fastest).</param>
    /// <param name="destination">Where to write.</param>
    public void Generate(long offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        int skip = (int)(offset % BlockLength);
        if (skip != 0)
        {
            Span<byte> first = stackalloc byte[BlockLength];
            GenerateAligned(offset - skip, first);
            int take = Math.Min(BlockLength - skip, destination.Length);
            first.Slice(skip, take).CopyTo(destination);
            offset += take;
            destination = destination[take..];
        }

        GenerateAligned(offset, destination);
    }

    /// <summary>Wipes the key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        CryptographicOperations.ZeroMemory(_key);
        if (_context != 0)
        {
            LibCrypto.CipherContextFree(_context);
        }

        _managed?.Dispose();
    }

    private void GenerateAligned(long offset, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        ulong block = (ulong)(offset / BlockLength);
        if (_context != 0)
        {
            GenerateWithOpenSsl(block, destination);
        }
        else
        {
            GenerateManaged(block, destination);
        }
    }

    private void GenerateWithOpenSsl(ulong block, Span<byte> destination)
    {
        Span<byte> iv = stackalloc byte[BlockLength];
        BinaryPrimitives.WriteUInt64BigEndian(iv, _nonce);
        BinaryPrimitives.WriteUInt64BigEndian(iv[8..], block);
        fixed (byte* ivPointer = iv)
        fixed (byte* zeros = Zeros)
        fixed (byte* output = destination)
        {
            if (LibCrypto.EncryptInit(_context, 0, 0, null, ivPointer) != 1)
            {
                throw new CryptographicException($"OpenSSL could not position the {CipherName} keystream.");
            }

            int done = 0;
            while (done < destination.Length)
            {
                int length = Math.Min(Chunk, destination.Length - done);
                int written;
                if (LibCrypto.EncryptUpdate(_context, output + done, &written, zeros, length) != 1 || written != length)
                {
                    throw new CryptographicException($"OpenSSL failed to generate the {CipherName} keystream.");
                }

                done += length;
            }
        }
    }

    private void GenerateManaged(ulong block, Span<byte> destination)
    {
        int whole = destination.Length / BlockLength * BlockLength;
        Span<byte> counters = destination[..whole];
        for (int i = 0; i < whole; i += BlockLength)
        {
            BinaryPrimitives.WriteUInt64BigEndian(counters[i..], _nonce);
            BinaryPrimitives.WriteUInt64BigEndian(counters[(i + 8)..], block++);
        }

        _managed!.EncryptEcb(counters, counters, PaddingMode.None);
        if (whole < destination.Length)
        {
            Span<byte> last = stackalloc byte[BlockLength];
            BinaryPrimitives.WriteUInt64BigEndian(last, _nonce);
            BinaryPrimitives.WriteUInt64BigEndian(last[8..], block);
            _managed.EncryptEcb(last, last, PaddingMode.None);
            last[..(destination.Length - whole)].CopyTo(destination[whole..]);
        }
    }
}
