using SecureMigration.Etcd;

namespace SecureMigration.Tests.Etcd;

/// <summary>Registry connection strings as operators type them: every endpoint named exactly, or a one-line error.</summary>
public sealed class EtcdEndpointTests
{
    [Theory]
    [InlineData("10.0.0.5:2379", "10.0.0.5", 2379)]
    [InlineData("etcd1.example", "etcd1.example", 2379)]
    [InlineData("[fd00::5]:2380", "fd00::5", 2380)]
    [InlineData("[fd00::5]", "fd00::5", 2379)]
    public void Parse_AcceptsHostAndPort(string text, string host, int port) =>
        Assert.Equal(new EtcdEndpoint(host, port), EtcdEndpoint.Parse(text));

    [Theory]
    [InlineData("h1:")]            // a port left out after the colon (was read as 443)
    [InlineData("h1:2379#frag")]
    [InlineData("h1:2379/path")]
    [InlineData("user@h1:2379")]
    [InlineData("h1:2379?x=1")]
    [InlineData("")]
    public void Parse_RefusesWhatIsNotAnEndpoint(string text)
    {
        FormatException error = Assert.Throws<FormatException>(() => EtcdEndpoint.Parse(text));

        Assert.Contains("is not an etcd endpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionString_NamesEveryEndpoint_AndRefusesAnotherScheme()
    {
        using var pki = new Infrastructure.TestPki();
        EtcdRegistryOptions options = EtcdRegistryOptions.Parse("etcd://a:1,b:2", pki.Credentials(pki.Source));

        Assert.Equal([new EtcdEndpoint("a", 1), new EtcdEndpoint("b", 2)], options.Endpoints);
        Assert.Throws<FormatException>(() => EtcdRegistryOptions.Parse("https://a:1", pki.Credentials(pki.Source)));
    }

    [Fact]
    public void ConnectionString_TakesALeaseTimeToLive_AndRefusesAnyOtherOption()
    {
        using var pki = new Infrastructure.TestPki();
        EtcdRegistryOptions options = EtcdRegistryOptions.Parse("etcd://a:1,b:2?lease-ttl=3", pki.Credentials(pki.Source));

        Assert.Equal(TimeSpan.FromSeconds(3), options.LeaseTtl);
        Assert.Equal(2, options.Endpoints.Count);
        Assert.Equal(TimeSpan.FromSeconds(10), EtcdRegistryOptions.Parse("etcd://a:1", pki.Credentials(pki.Source)).LeaseTtl);
        foreach (string bad in (string[])["?lease-ttl=", "?lease-ttl=-1", "?lease-ttl=1e3", "?lease-ttl=99999", "?prefix=/x/", "?"])
        {
            Assert.Throws<FormatException>(() => EtcdRegistryOptions.Parse("etcd://a:1" + bad, pki.Credentials(pki.Source)));
        }

        using var dir = new Infrastructure.TempDirectory();
        File.WriteAllText(dir.File("members.pem"), pki.Ca.CertificatePem);
        File.WriteAllText(dir.File("empty.pem"), "no certificate here");
        EtcdRegistryOptions both = EtcdRegistryOptions.Parse($"etcd://a:1?lease-ttl=4&member-ca={dir.File("members.pem")}",
            pki.Credentials(pki.Source));
        Assert.Equal((TimeSpan.FromSeconds(4), pki.Ca.CertificatePem), (both.LeaseTtl, both.MemberCaPem));
        Assert.Contains("cannot be read", Assert.Throws<FormatException>(() => EtcdRegistryOptions.Parse(
            $"etcd://a:1?member-ca={dir.File("missing.pem")}", pki.Credentials(pki.Source))).Message, StringComparison.Ordinal);
        both.MemberCaPem = File.ReadAllText(dir.File("empty.pem"));
        Assert.Contains("MemberCaPem", Assert.Throws<ArgumentException>(both.Validate).Message, StringComparison.Ordinal);

        options.LeaseTtl = TimeSpan.FromSeconds(1);
        Assert.Contains("LeaseTtl", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }
}
