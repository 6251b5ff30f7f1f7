using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.DependencyInjection;

public sealed class SecureMigrationServiceCollectionExtensionsTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public void AddSecureChannel_ResolvesOneFactoryWithTheRegisteredClock()
    {
        var clock = new FakeTimeProvider();
        ServiceProvider provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSecureChannel(o => o.Credentials = pki.Credentials(pki.Destination))
            .BuildServiceProvider();

        SecureChannelFactory factory = provider.GetRequiredService<SecureChannelFactory>();

        Assert.Same(factory, provider.GetRequiredService<SecureChannelFactory>());
        Assert.Same(clock, provider.GetRequiredService<SecureChannelOptions>().TimeProvider);
        Assert.Equal("destination.test", factory.LocalIdentity);
    }

    [Fact]
    public void AddSecureChannel_CalledTwice_KeepsTheFirstRegistration()
    {
        ServiceProvider provider = new ServiceCollection()
            .AddSecureChannel(o => o.Credentials = pki.Credentials(pki.Destination))
            .AddSecureChannel(o => o.Credentials = pki.Credentials(pki.Source))
            .BuildServiceProvider();

        Assert.Equal("destination.test", provider.GetRequiredService<SecureChannelFactory>().LocalIdentity);
    }

    [Fact]
    public void AddSecureChannel_BadOption_FailsWithTheOptionItsValueAndTheRange()
    {
        ServiceProvider provider = new ServiceCollection()
            .AddSecureChannel(o =>
            {
                o.Credentials = pki.Credentials(pki.Destination);
                o.HandshakeTimeout = TimeSpan.FromHours(1);
            })
            .BuildServiceProvider();

        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.GetRequiredService<SecureChannelFactory>());

        Assert.Contains("HandshakeTimeout is 01:00:00", error.Message, StringComparison.Ordinal);
        Assert.Contains("at most 10 minutes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSecureChannel_NoCredentials_SaysWhatToSet()
    {
        ServiceProvider provider = new ServiceCollection().AddSecureChannel(_ => { }).BuildServiceProvider();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() =>
            provider.GetRequiredService<SecureChannelFactory>());

        Assert.Contains("Credentials is not set", error.Message, StringComparison.Ordinal);
    }
}
