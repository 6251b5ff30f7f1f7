using System.Security.Cryptography;
using System.Text;
using SecureMigration.Identity;

namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// Seals ownership records in a PSK keyring cluster, where no host has a key the others can verify a signature with:
/// the writer MACs the record once for each host it shares a key with, and once for itself with its own key. A reader
/// checks the MAC meant for it under the key it shares with the writer, so a host cannot forge a record in another
/// host's name: it would need the key that pair shares. Only the record's owner may be its writer, as with X.509.
/// </summary>
internal static class PskRecordSeal
{
    public const string Format = "SecureMigration ownership record v2 (PSK keyring)";

    public static PskSealedRecord Seal(string payload, PskKeyringCredentials keyring)
    {
        var macs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [keyring.LocalIdentity] = Mac(OwnKey(keyring), keyring.LocalIdentity, payload),
        };
        foreach (string peer in keyring.Peers)
        {
            macs[peer] = Mac(keyring.KeyFor(peer)!, keyring.LocalIdentity, payload);
        }

        return new PskSealedRecord(Format, keyring.LocalIdentity, payload, macs);
    }

    /// <summary>Checks the MAC meant for this host; returns what is wrong, or <see langword="null"/> when the record holds.</summary>
    public static string? Check(PskSealedRecord? sealedRecord, PskKeyringCredentials keyring)
    {
        if (sealedRecord is not { Format: Format, Writer: not null, Payload: not null, Macs: not null })
        {
            return "it is not a PSK-sealed record";
        }

        string writer = Text.UntrustedText.Bound(sealedRecord.Writer, 160);
        byte[]? key = string.Equals(sealedRecord.Writer, keyring.LocalIdentity,
            StringComparison.Ordinal) ? OwnKey(keyring) : keyring.KeyFor(sealedRecord.Writer);
        if (key is null)
        {
            return $"its writer '{writer}' shares no key with this host ('{keyring.LocalIdentity}'): add the pair with 'secmig pki psk " +
                $"--identity'";
        }

        if (!sealedRecord.Macs.TryGetValue(keyring.LocalIdentity, out string? mac))
        {
            return $"'{writer}' did not seal it for this host ('{keyring.LocalIdentity}')";
        }

        byte[] expected = Convert.FromBase64String(Mac(key, sealedRecord.Writer, sealedRecord.Payload));
        byte[] actual = new byte[expected.Length];
        return Convert.TryFromBase64String(mac, actual, out int written) && written == expected.Length &&
            CryptographicOperations.FixedTimeEquals(expected, actual)
            ? null
            : $"its MAC for this host does not match: it was changed after '{writer}' wrote it, or '{writer}' did not write it";
    }

    /// <summary>Gets the keyring's own key, or explains how to add it.</summary>
    /// <exception cref="InvalidCredentialsException">The keyring has no key of its own.</exception>
    public static byte[] OwnKey(PskKeyringCredentials keyring) => keyring.OwnKey ?? throw new InvalidCredentialsException("the PSK keyring",
        $"The PSK keyring of '{keyring.LocalIdentity}' has no key of its own (a line '{keyring.LocalIdentity}:HEX'), which seals the " +
            $"ownership records it writes. " +
        "Run 'secmig pki psk --out DIR' again on the keyring directory to add it.");

    private static string Mac(byte[] key, string writer, string payload) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Format + "\n" + writer + "\n" + payload)));
}
