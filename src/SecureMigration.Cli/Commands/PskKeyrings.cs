using System.Security.Cryptography;
using System.Text;
using SecureMigration.Identity;
using SecureMigration.Storage;

namespace SecureMigration.Cli.Commands;

/// <summary>
/// Writes the PSK keyrings of a cluster into one directory, <c>HOST.keys</c> per host: every pair of hosts gets a key of
/// its own, held in both hosts' keyrings under the other's name, and every host a key of its own under its own name
/// (it seals the ownership records the host reads back). Pairs that exist are kept; new hosts get keys with every host
/// already there. Each file is replaced atomically, mode 0600.
/// </summary>
internal static class PskKeyrings
{
    public const string Extension = ".keys";

    /// <summary>Adds the missing pairs for <paramref name="newHosts"/> and every host already in <paramref name="directory"/>; returns how
    /// many pairs were added.</summary>
    public static async Task<int> AddAsync(string directory, IReadOnlyCollection<string> newHosts)
    {
        foreach (string host in newHosts)
        {
            // The same rules as a keyring's own identity (printable, at most 128 bytes, no ':').
            using (new PskKeyringCredentials(host, new Dictionary<string, byte[]>()))
            {
            }

            if (host.IndexOfAny(['/', '\\']) >= 0 || host.StartsWith('.'))
            {
                throw new InvalidCredentialsException("--identity", $"--identity '{host}' names a keyring file {host}{Extension}: use a " +
                    $"host name without '/' or a leading '.'.");
            }
        }

        Directory.CreateDirectory(directory);
        var keyrings = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(directory, "*" + Extension))
        {
            // Loading checks the file as a host would: owner-readable only, well-formed, one key per peer.
            string host = Path.GetFileNameWithoutExtension(file);
            using (PskKeyringCredentials.FromFile(file, host))
            {
            }

            keyrings[host] = [.. File.ReadAllLines(file)];
        }

        foreach (string host in newHosts)
        {
            keyrings.TryAdd(host, []);
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        int added = 0;
        string[] hosts = [.. keyrings.Keys];
        for (int a = 0; a < hosts.Length; a++)
        {
            string? own = Find(keyrings[hosts[a]], hosts[a]);
            AddLine(keyrings, changed, hosts[a], hosts[a], own ?? NewKey(), own);

            for (int b = a + 1; b < hosts.Length; b++)
            {
                string? keyAb = Find(keyrings[hosts[a]], hosts[b]);
                string? keyBa = Find(keyrings[hosts[b]], hosts[a]);
                if (keyAb is not null && keyBa is not null)
                {
                    continue;
                }

                // One side lost its line: it gets the key the other side still has. Neither: a fresh key.
                string key = keyAb ?? keyBa ?? NewKey();
                AddLine(keyrings, changed, hosts[a], hosts[b], key, keyAb);
                AddLine(keyrings, changed, hosts[b], hosts[a], key, keyBa);
                added += keyAb is null && keyBa is null ? 1 : 0;
            }
        }

        foreach (string host in changed)
        {
            byte[] contents = Encoding.UTF8.GetBytes(string.Join('\n', keyrings[host]) + "\n");
            try
            {
                await DurableFile.WriteAtomicallyAsync(Path.Combine(directory, host + Extension), contents, ownerOnly: true);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(contents);
            }
        }

        return added;
    }

    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(PskChannelCredentials.MinimumKeyLength));

    private static void AddLine(SortedDictionary<string, List<string>> keyrings, HashSet<string> changed, string host, string peer,
        string key, string? existing)
    {
        if (existing is null)
        {
            keyrings[host].Add($"{peer}:{key}");
            changed.Add(host);
        }
    }

    private static string? Find(List<string> lines, string peer)
    {
        string prefix = peer + ":";
        return lines.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
    }
}
