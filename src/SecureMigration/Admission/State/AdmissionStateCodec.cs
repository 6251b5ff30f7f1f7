using System.Security.Cryptography;
using System.Text.Json;

namespace SecureMigration.Admission.State;

/// <summary>
/// Seals the admission state: <c>"SMADM" | version (1) | JSON | SHA-256 of everything before it</c>. A state whose
/// checksum, magic, version or content does not hold is refused with the reason, never half-trusted.
/// </summary>
internal static class AdmissionStateCodec
{
    private const int ChecksumLength = 32;
    private static ReadOnlySpan<byte> Magic => "SMADM"u8;

    public static byte[] Encode(AdmissionSnapshot snapshot)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(snapshot, AdmissionSnapshotJson.Default.AdmissionSnapshot);
        byte[] sealedState = new byte[Magic.Length + 1 + json.Length + ChecksumLength];
        Magic.CopyTo(sealedState);
        sealedState[Magic.Length] = AdmissionSnapshot.CurrentVersion;
        json.CopyTo(sealedState, Magic.Length + 1);
        SHA256.HashData(sealedState.AsSpan(0, sealedState.Length - ChecksumLength),
            sealedState.AsSpan(sealedState.Length - ChecksumLength));
        return sealedState;
    }

    public static bool TryDecode(ReadOnlySpan<byte> sealedState, out AdmissionSnapshot? snapshot, out string problem)
    {
        snapshot = null;
        if (sealedState.Length < Magic.Length + 1 + ChecksumLength || !sealedState.StartsWith(Magic))
        {
            problem = "it is not an admission state file (wrong header or too short)";
            return false;
        }

        Span<byte> expected = stackalloc byte[ChecksumLength];
        SHA256.HashData(sealedState[..^ChecksumLength], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, sealedState[^ChecksumLength..]))
        {
            problem = "its checksum does not match: the file was damaged or edited";
            return false;
        }

        if (sealedState[Magic.Length] != AdmissionSnapshot.CurrentVersion)
        {
            problem = $"it has format version {sealedState[Magic.Length]}, and this version reads {AdmissionSnapshot.CurrentVersion}";
            return false;
        }

        try
        {
            snapshot = JsonSerializer.Deserialize(sealedState[(Magic.Length + 1)..^ChecksumLength],
                AdmissionSnapshotJson.Default.AdmissionSnapshot);
        }
        catch (JsonException e)
        {
            problem = $"its content is not a valid state ({e.Message})";
            return false;
        }

        problem = snapshot is null ? "it is empty" : string.Empty;
        return snapshot is not null;
    }
}
