using System.Text;
using Google.Protobuf;

namespace SecureMigration.Etcd;

/// <summary>The registry's keys under its prefix: one per VM, one for the registry's id, one per migration in
/// flight, one per anchored journal.</summary>
/// <param name="prefix">The validated prefix, starting and ending with '/'.</param>
internal sealed class EtcdKeys(string prefix)
{
    public ByteString RegistryId { get; } = ByteString.CopyFromUtf8(prefix + "registry/id");

    /// <summary>The key of a VM's ownership record; the id is validated (letters, digits, '.', '_', '-', ':').</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The key.</returns>
    public ByteString Vm(string vmId) => ByteString.CopyFromUtf8(prefix + "vms/" + vmId);

    /// <summary>The key a migration in flight holds, bound to its lease; the id is validated.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The key.</returns>
    public ByteString Migration(string vmId) => ByteString.CopyFromUtf8(prefix + "migrations/" + vmId);

    /// <summary>The prefix of every key cluster admission keeps (slots, budget counters, dwell and ping-pong marks).</summary>
    public string Admission { get; } = prefix + "admission/";

    /// <summary>A host's name as a key segment: hex of its UTF-8, so no name can reach into another's keys.</summary>
    /// <param name="host">The host.</param>
    /// <returns>The segment.</returns>
    public static string Segment(string host) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(host));

    /// <summary>The key of a journal's anchored head; the journal's name is hex-encoded, since it holds a path.</summary>
    /// <param name="journal">The journal's name.</param>
    /// <returns>The key.</returns>
    public ByteString Journal(string journal) =>
        ByteString.CopyFromUtf8(prefix + "journals/" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(journal)));

    /// <summary>The end of the range of keys that start with <paramref name="prefix"/> (its last byte raised by one).</summary>
    /// <param name="prefix">A prefix ending in '/', so its last byte is below 0xFF.</param>
    /// <returns>The range end.</returns>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        byte[] end = prefix.ToByteArray();
        end[^1]++;
        return ByteString.CopyFrom(end);
    }

    /// <summary>Where a key lives, for messages.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The text.</returns>
    public static string Describe(ByteString key) => "etcd:" + key.ToStringUtf8();
}
