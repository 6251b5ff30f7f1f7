using System.Globalization;
using System.Net;
using dotnet_etcd;
using SecureMigration.Etcd;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A real three-member etcd cluster on loopback ports, with TLS between members and to clients, and client
/// certificates required (<c>--client-cert-auth</c>) from one test CA, which also issues the hosts' certificates. Each
/// member is its own process, so a test can kill one (a leader, a quorum) and start it again.
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private const int Members = 3;
    private readonly TempDirectory _directory = new();
    private readonly ExternalProcess?[] _processes = new ExternalProcess?[Members];
    private readonly int[] _clientPorts = new int[Members];
    private readonly int[] _peerPorts = new int[Members];

    private readonly bool _ownsCa;
    private readonly HostNetwork? _network;

    private EtcdCluster(CertificateAuthority? ca, HostNetwork? network)
    {
        _ownsCa = ca is null;
        _network = network;
        Ca = ca ?? CertificateAuthority.Create("SecureMigration etcd Test CA");
        File.WriteAllText(_directory.File("ca.pem"), Ca.CertificatePem);
        for (int i = 0; i < Members; i++)
        {
            // On hosts of its own, a member has the host's address and the usual ports; on loopback, free ports.
            _clientPorts[i] = network is null ? FreePort.Next() : 2379;
            _peerPorts[i] = network is null ? FreePort.Next() : 2380;
            IssuedCredential member = Ca.IssueHost($"etcd{i}.test", [IPAddress.Parse(Address(i))]);
            File.WriteAllText(_directory.File($"etcd{i}.pem"), member.CertificatePem);
            File.WriteAllText(_directory.File($"etcd{i}.key"), member.PrivateKeyPem);
        }
    }

    /// <summary>Gets the CA of the members and of the hosts <see cref="Credentials"/> issues.</summary>
    public CertificateAuthority Ca { get; }

    /// <summary>Gets each member's client address.</summary>
    public IReadOnlyList<IPEndPoint> ClientEndPoints => [.. _clientPorts.Select((p, i) => new IPEndPoint(IPAddress.Parse(Address(i)), p))];

    /// <summary>Gets the client endpoints, as a registry connection string.</summary>
    public string ConnectionString =>
        EtcdRegistryOptions.Scheme +
        string.Join(',', _clientPorts.Select((p, i) => $"{Address(i)}:{p.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Starts the cluster and waits until every member serves clients.</summary>
    /// <param name="ca">The CA of the hosts that will use it (it then issues the members' certificates too), or
    /// <see langword="null"/> for a CA of the cluster's own.</param>
    /// <param name="network">Hosts for the members, member i on host i (its namespace and address), or <see langword="null"/>
    /// for loopback.</param>
    /// <returns>The cluster.</returns>
    public static async Task<EtcdCluster> StartAsync(CertificateAuthority? ca = null, HostNetwork? network = null)
    {
        var cluster = new EtcdCluster(ca, network);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Members).Select(cluster.StartMemberAsync));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Issues credentials for a host of the cluster, trusted by the members.</summary>
    /// <param name="host">The host's name.</param>
    /// <returns>The credentials.</returns>
    public X509ChannelCredentials Credentials(string host)
    {
        IssuedCredential issued = Ca.IssueHost(host);
        return X509ChannelCredentials.FromPem(issued.CertificatePem, issued.PrivateKeyPem, Ca.CertificatePem);
    }

    /// <summary>Options for a registry of <paramref name="host"/> on this cluster, under a prefix of its own.</summary>
    /// <param name="host">The host.</param>
    /// <param name="prefix">The key prefix, so tests sharing the cluster do not see each other's keys.</param>
    /// <returns>The options.</returns>
    public EtcdRegistryOptions Options(string host, string prefix)
    {
        EtcdRegistryOptions options = EtcdRegistryOptions.Parse(ConnectionString, Credentials(host));
        options.KeyPrefix = prefix;
        options.OperationTimeout = TimeSpan.FromSeconds(10);
        return options;
    }

    /// <summary>Finds the member that leads the cluster now.</summary>
    /// <returns>0, 1 or 2.</returns>
    public async Task<int> LeaderAsync()
    {
        (EtcdClient client, IDisposable certificate) = RawClient(Options("observer.test", EtcdRegistryOptions.DefaultKeyPrefix));
        using (client)
        using (certificate)
        {
            Etcdserverpb.MemberListResponse members = await client.MemberListAsync(new Etcdserverpb.MemberListRequest());
            Etcdserverpb.StatusResponse status = await client.StatusAsync(new Etcdserverpb.StatusRequest());
            string name = members.Members.Single(m => m.ID == status.Leader).Name;
            return int.Parse(name["etcd".Length..], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Reads a key as stored, past every check a registry makes: what anyone with etcd access sees.</summary>
    /// <param name="options">Whose credentials to connect with.</param>
    /// <param name="key">The whole key.</param>
    /// <returns>The value, or <see langword="null"/> when the key is absent.</returns>
    public async Task<byte[]?> ReadRawAsync(EtcdRegistryOptions options, string key)
    {
        (EtcdClient client, IDisposable certificate) = RawClient(options);
        using (client)
        using (certificate)
        {
            Etcdserverpb.RangeResponse range = await client.GetAsync(key);
            return range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToByteArray();
        }
    }

    /// <summary>Counts the keys under a prefix, as anyone with etcd access sees them.</summary>
    /// <param name="options">Whose credentials to connect with.</param>
    /// <param name="prefix">The prefix, ending in '/'.</param>
    /// <returns>The number of keys.</returns>
    public async Task<long> CountRawAsync(EtcdRegistryOptions options, string prefix)
    {
        (EtcdClient client, IDisposable certificate) = RawClient(options);
        using (client)
        using (certificate)
        {
            return (await client.GetRangeAsync(prefix)).Count;
        }
    }

    /// <summary>Writes a key as is, past every check a registry makes: what anyone with etcd access can do.</summary>
    /// <param name="options">Whose credentials to connect with.</param>
    /// <param name="key">The whole key.</param>
    /// <param name="value">The value.</param>
    /// <returns>A task that completes when etcd stored it.</returns>
    public async Task WriteRawAsync(EtcdRegistryOptions options, string key, byte[] value)
    {
        (EtcdClient client, IDisposable certificate) = RawClient(options);
        using (client)
        using (certificate)
        {
            await client.PutAsync(new Etcdserverpb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(key),
                Value = Google.Protobuf.ByteString.CopyFrom(value) });
        }
    }

    private static (EtcdClient Client, IDisposable Tls) RawClient(EtcdRegistryOptions options)
    {
        IDisposable? tls = null;
        var client = new EtcdClient(string.Join(',', options.Endpoints.Select(e => "https://" + e)),
            ssl => tls = EtcdTls.Configure(ssl, options));
        return (client, tls!);
    }

    /// <summary>Kills member <paramref name="member"/> (SIGKILL).</summary>
    /// <param name="member">0, 1 or 2.</param>
    /// <returns>A task that completes when it is dead.</returns>
    public async Task KillAsync(int member)
    {
        if (_processes[member] is { } process)
        {
            _processes[member] = null;
            await process.KillAsync();
            await process.DisposeAsync();
        }
    }

    /// <summary>Starts member <paramref name="member"/> again on its data directory and waits until it serves clients.</summary>
    /// <param name="member">0, 1 or 2.</param>
    /// <returns>A task that completes when it serves.</returns>
    public Task RestartAsync(int member) => StartMemberAsync(member);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        for (int i = 0; i < Members; i++)
        {
            await KillAsync(i);
        }

        if (_ownsCa)
        {
            Ca.Dispose();
        }

        _directory.Dispose();
    }

    private string Address(int member) => _network is null ? "127.0.0.1" : HostNetwork.ServiceAddress(member);

    private async Task StartMemberAsync(int i)
    {
        string Url(int member, int port) => $"https://{Address(member)}:{port.ToString(CultureInfo.InvariantCulture)}";
        string initialCluster = string.Join(',', Enumerable.Range(0, Members).Select(m => $"etcd{m}={Url(m, _peerPorts[m])}"));
        string ca = _directory.File("ca.pem"), cert = _directory.File($"etcd{i}.pem"), key = _directory.File($"etcd{i}.key");
        string[] onHost = _network is null ? [] : ["netns", "exec", _network.Namespaces[i], ExternalProgram.Require("etcd")];
        ExternalProcess process = ExternalProcess.Start(_network is null ? "etcd" : "ip", [.. onHost,
            "--name", $"etcd{i}", "--data-dir", _directory.File($"data{i}"),
            "--listen-client-urls", Url(i, _clientPorts[i]), "--advertise-client-urls", Url(i, _clientPorts[i]),
            "--listen-peer-urls", Url(i, _peerPorts[i]), "--initial-advertise-peer-urls", Url(i, _peerPorts[i]),
            "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", "secmig-test",
            "--client-cert-auth", "--trusted-ca-file", ca, "--cert-file", cert, "--key-file", key,
            "--peer-client-cert-auth", "--peer-trusted-ca-file", ca, "--peer-cert-file", cert, "--peer-key-file", key,
            // Short election timeouts so a killed leader is replaced in well under a second.
            "--heartbeat-interval", "50", "--election-timeout", "500", "--logger", "zap", "--log-outputs", "stderr"]);
        _processes[i] = process;
        await process.WaitForAsync("serving client traffic");
    }
}
