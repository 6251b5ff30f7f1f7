using System.Runtime.InteropServices;

namespace SecureMigration.Sanitization;

/// <summary>
/// The few libcrypto (OpenSSL 3) calls the keystream needs. .NET already loads libcrypto on Linux; OpenSSL's AES-CTR
/// uses the CPU's wide AES units (VAES), which .NET's intrinsics do not expose.
/// </summary>
internal static unsafe partial class LibCrypto
{
    private const string Library = "libcrypto.so.3";

    public static bool IsAvailable { get; } = Probe();

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_CTX_new")]
    public static partial nint CipherContextNew();

    [LibraryImport(Library, EntryPoint = "EVP_CIPHER_CTX_free")]
    public static partial void CipherContextFree(nint context);

    [LibraryImport(Library, EntryPoint = "EVP_aes_128_ctr")]
    public static partial nint Aes128Ctr();

    [LibraryImport(Library, EntryPoint = "EVP_aes_256_ctr")]
    public static partial nint Aes256Ctr();

    [LibraryImport(Library, EntryPoint = "EVP_EncryptInit_ex")]
    public static partial int EncryptInit(nint context, nint cipher, nint engine, byte* key, byte* iv);

    [LibraryImport(Library, EntryPoint = "EVP_EncryptUpdate")]
    public static partial int EncryptUpdate(nint context, byte* output, int* outputLength, byte* input, int inputLength);

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            nint context = CipherContextNew();
            if (context == 0)
            {
                return false;
            }

            CipherContextFree(context);
            return Aes128Ctr() != 0 && Aes256Ctr() != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
