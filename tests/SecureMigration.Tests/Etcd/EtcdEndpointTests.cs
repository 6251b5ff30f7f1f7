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
}
