using System.Net;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Defense (issue 14, hole 5): with certificates, every ownership record is signed by the host it names as owner, and
/// only such records are believed; whoever can write the shared directory without a host key, a host of the cluster
/// naming another owner, or a host of another CA cannot hand a VM to anyone.
/// </summary>
public sealed class SignedOwnershipRecordTests(TestPki pki) : IClassFixture<TestPki>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private FileOwnershipRegistry Signed(X509ChannelCredentials signer) => new(_dir.Path, signer: signer);

    [Fact]
    public async Task GetAsync_RecordsWrittenByTheirOwners_AreBelievedAcrossHosts()
    {
        OwnershipRecord registered = await Signed(pki.Credentials(pki.Source)).RegisterAsync("vm-1", "source.test");
        OwnershipMove moved = await Signed(pki.Credentials(pki.Destination)).TryMoveAsync("vm-1", 1, "source.test", "destination.test",
            Guid.NewGuid());

        Assert.True(moved.Moved);
        Assert.Equal(("destination.test", 2L), ((await Signed(pki.Credentials(pki.Source)).GetAsync("vm-1"))!.Owner, moved.Current!.Epoch));
        Assert.Equal(1L, registered.Epoch);
    }

    [Fact]
    public async Task GetAsync_UnsignedRecordFromADirectoryWriter_IsRefused()
    {
        await new FileOwnershipRegistry(_dir.Path).RegisterAsync("vm-1", "source.test");

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() =>
            Signed(pki.Credentials(pki.Destination)).GetAsync("vm-1").AsTask());

        Assert.Contains("it is not signed", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_HostOfTheClusterSigningARecordForAnotherOwner_IsRefusedNamingBoth()
    {
        var insider = pki.Credentials(pki.Ca.IssueHost("insider.test", [IPAddress.Loopback]));
        await Signed(insider).RegisterAsync("vm-1", "source.test");

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() =>
            Signed(pki.Credentials(pki.Destination)).GetAsync("vm-1").AsTask());

        Assert.Contains("says 'source.test' owns the VM, but it is signed by 'insider.test'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_RecordSignedUnderAnotherCa_IsRefused()
    {
        var rogue = pki.Credentials(pki.OtherCa.IssueHost("source.test"), trust: pki.OtherCa);
        await Signed(rogue).RegisterAsync("vm-1", "source.test");

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() =>
            Signed(pki.Credentials(pki.Destination)).GetAsync("vm-1").AsTask());

        Assert.Contains("not vouched for by the CA", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_SignedRecordEditedAfterSigning_IsRefused()
    {
        await Signed(pki.Credentials(pki.Source)).RegisterAsync("vm-1", "source.test");
        string path = Path.Combine(_dir.Path, "vm-1.owner");
        byte[] bytes = File.ReadAllBytes(path);
        const int Magic = 7;
        var envelope = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(Magic, bytes.Length - Magic - 32))!;
        envelope["Payload"] = envelope["Payload"]!.GetValue<string>().Replace("\"Epoch\":1", "\"Epoch\":7", StringComparison.Ordinal);
        byte[] body = [.. bytes.AsSpan(0, Magic), .. System.Text.Encoding.UTF8.GetBytes(envelope.ToJsonString())];
        File.WriteAllBytes(path, [.. body, .. System.Security.Cryptography.SHA256.HashData(body)]);

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() =>
            Signed(pki.Credentials(pki.Destination)).GetAsync("vm-1").AsTask());

        Assert.Contains("signature does not match", refused.Message, StringComparison.Ordinal);
    }
}
