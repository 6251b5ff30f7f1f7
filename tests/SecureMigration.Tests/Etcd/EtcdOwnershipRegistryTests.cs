using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>The etcd registry against a real three-member cluster with mutual TLS.</summary>
[Collection(nameof(EtcdCollection))]
public sealed class EtcdOwnershipRegistryTests(EtcdClusterFixture fixture)
{
    private readonly string _prefix = EtcdClusterFixture.FreshPrefix();

    [RequiresProgramFact("etcd")]
    public async Task Register_IsFirstComeAndReadBackSigned()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry other = Registry("other.test");

        OwnershipRecord registered = await source.RegisterAsync("vm1", "source.test");
        OwnershipRecord again = await other.RegisterAsync("vm1", "other.test");

        Assert.Equal(("source.test", 1L), (registered.Owner, registered.Epoch));
        Assert.Equal(registered, again);
        Assert.Equal(registered, await other.GetAsync("vm1"));
        Assert.Null(await other.GetAsync("vm2"));
    }

    /// <summary>A renewed certificate (issue 19's rotation) signs what the registry writes from then on; another host's is refused.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task RotateCredentials_RenewedCertificateWritesSignedRecords_AnotherHostsIsRefused()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry reader = Registry("other.test");
        await source.RegisterAsync("vm1", "source.test");

        source.RotateCredentials(fixture.Cluster.Credentials("source.test"));
        OwnershipRecord registered = await source.RegisterAsync("vm2", "source.test");
        var refusal = Assert.Throws<ArgumentException>(() => source.RotateCredentials(fixture.Cluster.Credentials("other.test")));
        OwnershipRecord stillSource = await source.RegisterAsync("vm3", "source.test");

        Assert.Equal(registered, await reader.GetAsync("vm2"));
        Assert.Equal("source.test", (await reader.GetAsync("vm3"))!.Owner);
        Assert.Equal("source.test", stillSource.Owner);
        Assert.Contains("names 'other.test'", refusal.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("etcd")]
    public async Task TryMove_FromTheEpochSeen_MovesOnce_AndAStaleExpectationSeesTheWinner()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry destination = Registry("destination.test");
        await source.RegisterAsync("vm1", "source.test");
        var migration = Guid.NewGuid();

        OwnershipMove moved = await destination.TryMoveAsync("vm1", 1, "source.test", "destination.test", migration);
        OwnershipMove reclaim = await source.TryMoveAsync("vm1", 1, "source.test", "source.test", Guid.NewGuid());

        Assert.True(moved.Moved);
        Assert.Equal(("destination.test", 2L, (Guid?)migration), (moved.Current!.Owner, moved.Current.Epoch, moved.Current.MigrationId));
        Assert.False(reclaim.Moved);
        Assert.Equal(moved.Current, reclaim.Current);
    }

    /// <summary>
    /// Anyone who can write etcd, without any host's key, puts back the record the source signed before the commit. It
    /// reads as genuine, but at a new revision: a take-back bound to the revision the source read at the start does not
    /// move it, while one that compares epoch and owner only (the attack) does.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task TryMove_BoundToTheRevisionRead_RefusesTheSameRecordPutBack()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry destination = Registry("destination.test");
        await source.RegisterAsync("vm1", "source.test");
        OwnershipRecord started = (await source.GetAsync("vm1"))!;
        EtcdRegistryOptions writer = fixture.Cluster.Options("writer.test", _prefix);
        byte[] before = (await fixture.Cluster.ReadRawAsync(writer, _prefix + "vms/vm1"))!;
        OwnershipMove commit = await destination.TryMoveAsync("vm1", 1, "source.test", "destination.test", Guid.NewGuid());
        await PutRawAsync(writer, "vms/vm1", before);

        OwnershipRecord replayed = (await source.GetAsync("vm1"))!;
        OwnershipMove bound = await source.TryMoveAsync(started, "source.test", Guid.NewGuid());
        OwnershipMove unbound = await source.TryMoveAsync("vm1", 1, "source.test", "source.test", Guid.NewGuid());

        Assert.True(started.Revision > 0);
        Assert.True(commit.Current!.Revision > started.Revision, "the commit's revision is the fencing token, above the start's");
        Assert.Equal(started with { Revision = replayed.Revision }, replayed);
        Assert.True(replayed.Revision > commit.Current.Revision);
        Assert.False(bound.Moved);
        Assert.Equal(replayed, bound.Current);
        Assert.True(unbound.Moved, "without the revision the replayed record passes for the one read at the start");
    }

    [RequiresProgramFact("etcd")]
    public async Task TryMove_RepeatedAfterItApplied_ReportsMoved()
    {
        // A commit whose answer was lost is sent again: the record already carries this migration, so it moved.
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry destination = Registry("destination.test");
        await source.RegisterAsync("vm1", "source.test");
        var migration = Guid.NewGuid();
        Assert.True((await destination.TryMoveAsync("vm1", 1, "source.test", "destination.test", migration)).Moved);

        OwnershipMove repeated = await destination.TryMoveAsync("vm1", 1, "source.test", "destination.test", migration);
        OwnershipMove another = await destination.TryMoveAsync("vm1", 1, "source.test", "destination.test", Guid.NewGuid());

        Assert.False(repeated.Moved); // the record no longer matches the expectation: the caller learns it from Current
        Assert.Equal(migration, repeated.Current!.MigrationId);
        Assert.False(another.Moved);
    }

    [RequiresProgramFact("etcd")]
    public async Task TwoDestinationsRacing_ExactlyOneWinsEveryRound()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        using EtcdOwnershipRegistry a = Registry("a.test");
        using EtcdOwnershipRegistry b = Registry("b.test");
        for (int round = 0; round < 20; round++)
        {
            string vm = $"vm{round}";
            await source.RegisterAsync(vm, "source.test");
            OwnershipMove[] moves = await Task.WhenAll(
                a.TryMoveAsync(vm, 1, "source.test", "a.test", Guid.NewGuid()).AsTask(),
                b.TryMoveAsync(vm, 1, "source.test", "b.test", Guid.NewGuid()).AsTask());

            Assert.Single(moves, m => m.Moved);
            OwnershipRecord final = (await source.GetAsync(vm))!;
            Assert.Equal(2, final.Epoch);
            Assert.Equal(moves.Single(m => m.Moved).Current, final);
        }
    }

    [RequiresProgramFact("etcd")]
    public async Task ARecordNotSignedByItsOwner_IsRefused()
    {
        // An insider with etcd access and a host key of its own writes a record that hands vm1 to another host.
        using EtcdOwnershipRegistry source = Registry("source.test");
        await source.RegisterAsync("vm1", "source.test");
        OwnershipRecord forged = new("vm1", "victim.test", 2, Guid.NewGuid(), DateTimeOffset.UtcNow);
        EtcdRegistryOptions insider = fixture.Cluster.Options("insider.test", _prefix);
        await PutRawAsync(insider, "vms/vm1", SignedOwnershipRecords.Sign(forged, insider.Credentials!));

        OwnershipRegistryException refused = await Assert.ThrowsAsync<OwnershipRegistryException>(() => source.GetAsync("vm1").AsTask());

        Assert.Contains("signed by 'insider.test'", refused.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("etcd")]
    public async Task AnUnsignedOrForeignRecord_IsRefused_NotTrusted()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");
        EtcdRegistryOptions raw = fixture.Cluster.Options("source.test", _prefix);
        byte[] unsigned = """{"VmId":"vm1","Owner":"source.test","Epoch":9,"MigrationId":null,"ChangedAt":"2026-01-01T00:00:00Z"}"""u8
            .ToArray();
        await PutRawAsync(raw, "vms/vm1", unsigned);
        using CertificateAuthority rogue = CertificateAuthority.Create("Rogue CA");
        IssuedCredential outsider = rogue.IssueHost("source.test");
        var outsiderCredentials = SecureMigration.Identity.X509ChannelCredentials.FromPem(outsider.CertificatePem, outsider.PrivateKeyPem,
            rogue.CertificatePem);
        await PutRawAsync(raw, "vms/vm2", SignedOwnershipRecords.Sign(new("vm2", "source.test", 1, null, DateTimeOffset.UtcNow),
            outsiderCredentials));

        await Assert.ThrowsAsync<OwnershipRegistryException>(() => source.GetAsync("vm1").AsTask());
        OwnershipRegistryException foreign = await Assert.ThrowsAsync<OwnershipRegistryException>(() => source.GetAsync("vm2").AsTask());
        Assert.Contains("signature does not hold", foreign.Message, StringComparison.Ordinal);
    }

    [RequiresProgramFact("etcd")]
    public async Task WritingForAnotherOwner_IsRefusedBeforeAnythingIsSent()
    {
        using EtcdOwnershipRegistry source = Registry("source.test");

        await Assert.ThrowsAsync<ArgumentException>(() => source.RegisterAsync("vm1", "other.test").AsTask());

        Assert.Null(await source.GetAsync("vm1"));
    }

    [RequiresProgramFact("etcd")]
    public async Task RegistryId_IsCreatedOnceAndSharedByEveryHost()
    {
        using EtcdOwnershipRegistry first = Registry("source.test");
        using EtcdOwnershipRegistry second = Registry("destination.test");

        string[] ids = await Task.WhenAll(first.GetIdAsync().AsTask(), second.GetIdAsync().AsTask());

        Assert.Equal(ids[0], ids[1]);
        Assert.Matches("^[0-9a-f]{32}$", ids[0]);
    }

    [RequiresProgramFact("etcd")]
    public async Task JournalAnchor_OnlyMovesForward()
    {
        using EtcdOwnershipRegistry registry = Registry("source.test");
        const string Journal = "source.test:/var/lib/secmig/journal.smj";

        await registry.AnchorHeadAsync(Journal, new JournalHead(5, "mac5"));
        await registry.AnchorHeadAsync(Journal, new JournalHead(3, "mac3"));

        Assert.Equal(new JournalHead(5, "mac5"), await registry.GetHeadAsync(Journal));
        Assert.Null(await registry.GetHeadAsync("another journal"));
    }

    [Fact]
    public async Task NoEtcdListening_IsReportedUnreachable_AsAnIOException()
    {
        using var pki = new TestPki();
        var options = EtcdRegistryOptions.Parse($"etcd://127.0.0.1:{FreePort.Next()}", pki.Credentials(pki.Source));
        options.OperationTimeout = TimeSpan.FromSeconds(1);
        using var registry = new EtcdOwnershipRegistry(options);

        IOException error = await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetAsync("vm1").AsTask());

        Assert.Contains("127.0.0.1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]  // a host of the cluster: the right CA, but its certificate names another host
    [InlineData(false, true)]  // the endpoint's address, but from another CA
    [InlineData(true, true)]   // a real member: the handshake completes (the control)
    public async Task AServerPosingAsEtcd_IsRefusedInTheHandshake(bool clusterCa, bool namesTheEndpoint)
    {
        using var pki = new TestPki();
        CertificateAuthority issuer = clusterCa ? pki.Ca : pki.OtherCa;
        IssuedCredential served = namesTheEndpoint ? issuer.IssueHost("etcd.test", [IPAddress.Loopback])
            : issuer.IssueHost("other-host.test");
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(served.CertificatePem, served.PrivateKeyPem);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<bool> handshake = ServeOneHandshakeAsync(listener, X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12),
            null));
        var options = EtcdRegistryOptions.Parse($"etcd://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}",
            pki.Credentials(pki.Source));
        options.OperationTimeout = TimeSpan.FromSeconds(3);
        using var registry = new EtcdOwnershipRegistry(options);

        await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetAsync("vm1").AsTask());

        Assert.Equal(clusterCa && namesTheEndpoint, await handshake);
    }

    /// <summary>
    /// etcd on the hypervisor hosts: a host's own certificate names its address, an endpoint. With the members' own CA
    /// configured, only a certificate from that CA stands for a member; the hosts' CA no longer does.
    /// </summary>
    [Theory]
    [InlineData(false)] // a host of the cluster, at an endpoint's address, with a certificate from the hosts' CA
    [InlineData(true)]  // a member, with a certificate from the members' CA (the control)
    public async Task WithAMemberCa_OnlyItsCertificatesStandForEtcd(bool fromMemberCa)
    {
        using var pki = new TestPki();
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("members.pem"), pki.OtherCa.CertificatePem);
        IssuedCredential served = (fromMemberCa ? pki.OtherCa : pki.Ca).IssueHost("host-and-etcd.test", [IPAddress.Loopback]);
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(served.CertificatePem, served.PrivateKeyPem);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<bool> handshake = ServeOneHandshakeAsync(listener, X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12),
            null));
        var options = EtcdRegistryOptions.Parse($"etcd://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}?member-ca=" +
            dir.File("members.pem"), pki.Credentials(pki.Source));
        options.OperationTimeout = TimeSpan.FromSeconds(3);
        using var registry = new EtcdOwnershipRegistry(options);

        await Assert.ThrowsAsync<EtcdUnavailableException>(() => registry.GetAsync("vm1").AsTask());

        Assert.Equal(fromMemberCa, await handshake);
    }

    private EtcdOwnershipRegistry Registry(string host) => new(fixture.Cluster.Options(host, _prefix));

    private Task PutRawAsync(EtcdRegistryOptions options, string key, byte[] value) =>
        fixture.Cluster.WriteRawAsync(options, _prefix + key, value);

    /// <summary>
    /// Accepts one TLS client; reports whether the client accepted the server's certificate: it then speaks HTTP/2 (its
    /// preface starts "PRI"). A client that refuses the certificate closes instead (with .NET on OpenSSL the server's side
    /// of the handshake completes either way, since the client checks the certificate after it).
    /// </summary>
    private static async Task<bool> ServeOneHandshakeAsync(TcpListener listener, X509Certificate2 certificate)
    {
        using (certificate)
        {
            using TcpClient client = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                });
                byte[] preface = new byte[3];
                await tls.ReadExactlyAsync(preface);
                return preface.AsSpan().SequenceEqual("PRI"u8);
            }
            catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
            {
                return false;
            }
        }
    }
}
