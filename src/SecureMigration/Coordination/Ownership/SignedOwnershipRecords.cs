using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Org.BouncyCastle.X509;
using SecureMigration.Identity;
using SecureMigration.Text;

namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// Ownership records signed by their owner's host key, as every registry with X.509 credentials keeps them: whoever can
/// write the store (a shared directory, an etcd cluster) without a host's key cannot hand a VM to anyone. A record is
/// accepted only when its signature holds (under the reader's CA), its signer is the owner it names, and it describes
/// the VM it is kept for.
/// </summary>
internal static class SignedOwnershipRecords
{
    private const string Format = "SecureMigration ownership record v2";

    /// <summary>Signs <paramref name="record"/> with <paramref name="signer"/> (its owner's credentials).</summary>
    /// <param name="record">The record.</param>
    /// <param name="signer">The owner's credentials.</param>
    /// <returns>The signed envelope as UTF-8 JSON.</returns>
    public static byte[] Sign(OwnershipRecord record, X509ChannelCredentials signer) =>
        JsonSerializer.SerializeToUtf8Bytes(HostSignatures.Sign(Format, JsonSerializer.Serialize(record,
            OwnershipJson.Default.OwnershipRecord),
            signer), OwnershipJson.Default.SignedEnvelope);

    /// <summary>Reads a signed record of <paramref name="vmId"/> kept at <paramref name="location"/>.</summary>
    /// <param name="vmId">The VM the record is kept for.</param>
    /// <param name="location">Where it is kept, for the message.</param>
    /// <param name="json">The signed envelope.</param>
    /// <param name="anchors">The CA the signer must chain to, or <see langword="null"/> to check the signature only.</param>
    /// <param name="now">The time the signer's certificate must be valid at.</param>
    /// <returns>The record.</returns>
    /// <exception cref="OwnershipRegistryException">The record cannot be trusted; the message says why.</exception>
    public static OwnershipRecord Read(string vmId, string location, ReadOnlySpan<byte> json, IReadOnlyList<X509Certificate>? anchors,
        DateTimeOffset now)
    {
        SignedEnvelope? envelope = Deserialize(vmId, location, json, OwnershipJson.Default.SignedEnvelope);
        SignatureCheck check = HostSignatures.Check(envelope, Format, anchors, now);
        if (check.Problem is not null)
        {
            throw new OwnershipRegistryException(vmId, location, $"its signature does not hold: {check.Problem}");
        }

        OwnershipRecord record = Deserialize(vmId, location, Encoding.UTF8.GetBytes(envelope!.Payload),
            OwnershipJson.Default.OwnershipRecord)
            ?? throw new OwnershipRegistryException(vmId, location, "its signed payload holds no record");
        if (!string.Equals(check.SignerName, record.Owner, StringComparison.OrdinalIgnoreCase))
        {
            throw new OwnershipRegistryException(vmId, location,
                $"it says '{UntrustedText.Bound(record.Owner, 160)}' owns the VM, but it is signed by '{check.SignerName}': only " +
                    $"the owner writes its record");
        }

        return record;
    }

    /// <summary>Reads JSON of <paramref name="type"/>; malformed content is an <see cref="OwnershipRegistryException"/>.</summary>
    /// <typeparam name="T">The type.</typeparam>
    /// <param name="vmId">The VM the content is kept for.</param>
    /// <param name="location">Where it is kept, for the message.</param>
    /// <param name="json">The content.</param>
    /// <param name="type">The type's metadata.</param>
    /// <returns>The value, or <see langword="null"/> for JSON <c>null</c>.</returns>
    public static T? Deserialize<T>(string vmId, string location, ReadOnlySpan<byte> json, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException e)
        {
            throw new OwnershipRegistryException(vmId, location, $"its content is not a record ({e.Message})");
        }
    }
}
