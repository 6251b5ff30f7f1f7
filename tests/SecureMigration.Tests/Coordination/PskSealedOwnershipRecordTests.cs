using System.Security.Cryptography;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Defense (issue 14, hole 5, PSK clusters): with PSK keyrings every ownership record is sealed by its owner with a MAC
/// for each host under the key the pair shares, so a host of the cluster cannot write a record in another host's name,
/// and whoever can write the directory without the keys cannot hand a VM to anyone.
/// </summary>
public sealed class PskSealedOwnershipRecordTests : IDisposable
{
    private const string A = "a.test";
    private const string B = "b.test";
    private const string C = "c.test";
    private readonly TempDirectory _dir = new();
    private readonly Dictionary<(string, string), byte[]> _pairKeys = [];

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RecordsSealedByTheirOwners_AreBelievedAcrossHostsAndByTheirWriters()
    {
        await Registry(A).RegisterAsync("vm-1", A);

        OwnershipMove moved = await Registry(B).TryMoveAsync("vm-1", 1, A, B, Guid.NewGuid());

        Assert.True(moved.Moved);
        Assert.Equal((B, 2L), ((await Registry(A).GetAsync("vm-1"))!.Owner, (await Registry(B).GetAsync("vm-1"))!.Epoch));
        Assert.Equal(B, (await Registry(C).GetAsync("vm-1"))!.Owner);
    }

    [Fact]
    public async Task HostOfTheClusterPosingAsAnotherWriter_IsRefused()
    {
        // The insider holds keys with B and with A, but not the key A and B share: it cannot seal a record as A for B.
        using var posing = new PskKeyringCredentials(A, new Dictionary<string, byte[]>
        {
            [A] = RandomNumberGenerator.GetBytes(32),
            [B] = RandomNumberGenerator.GetBytes(32),
            [C] = PairKey(A, C),
        });
        await new FileOwnershipRegistry(_dir.Path, null, posing).RegisterAsync("vm-1", A);

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() => Registry(B).GetAsync("vm-1")
            .AsTask());

        Assert.Contains("its MAC for this host does not match", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostOfTheClusterSealingARecordForAnotherOwner_IsRefusedNamingBoth()
    {
        await Registry(C).RegisterAsync("vm-1", A);

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() => Registry(B).GetAsync("vm-1")
            .AsTask());

        Assert.Contains($"says '{A}' owns the VM, but '{C}' wrote it", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChecksummedRecordFromADirectoryWriter_IsRefused()
    {
        await new FileOwnershipRegistry(_dir.Path).RegisterAsync("vm-1", A);

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() => Registry(B).GetAsync("vm-1")
            .AsTask());

        Assert.Contains("it is not signed", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PskSealedRecord_ReadWithoutTheKeyring_IsRefusedWithTheRemedy()
    {
        await Registry(A).RegisterAsync("vm-1", A);

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() => new FileOwnershipRegistry(_dir.Path)
            .GetAsync("vm-1").AsTask());

        Assert.Contains("open it with this host's keyring", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyringWithoutAKeyOfItsOwn_IsRefusedBeforeAnyRecordIsWritten()
    {
        using var keyring = new PskKeyringCredentials(A, new Dictionary<string, byte[]> { [B] = PairKey(A, B) });

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => new FileOwnershipRegistry(_dir.Path, null,
            keyring));

        Assert.Contains("secmig pki psk --out DIR", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
    }

    private FileOwnershipRegistry Registry(string host)
    {
        var keys = new Dictionary<string, byte[]> { [host] = PairKey(host, host) };
        foreach (string peer in new[] { A, B, C }.Where(peer => peer != host))
        {
            keys[peer] = PairKey(host, peer);
        }

        return new FileOwnershipRegistry(_dir.Path, null, new PskKeyringCredentials(host, keys));
    }

    private byte[] PairKey(string x, string y)
    {
        (string, string) pair = string.CompareOrdinal(x, y) <= 0 ? (x, y) : (y, x);
        if (!_pairKeys.TryGetValue(pair, out byte[]? key))
        {
            key = RandomNumberGenerator.GetBytes(32);
            _pairKeys[pair] = key;
        }

        return key;
    }
}
