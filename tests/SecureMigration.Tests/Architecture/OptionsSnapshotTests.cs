using System.Collections;
using System.Net;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Etcd;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tunnel;

namespace SecureMigration.Tests.Architecture;

/// <summary>
/// Every component keeps a snapshot of its options (issue 17), so a caller's later change cannot reach a running
/// channel, listener, tunnel, sanitizer, driver or admission controller. For each options type: every public property
/// is set to a value other than its default, the snapshot is taken, and the snapshot must hold every value (a property
/// the snapshot forgets keeps its default) and share no collection or nested options object with the original.
/// </summary>
public sealed class OptionsSnapshotTests
{
    private static readonly Lazy<X509ChannelCredentials> X509 = new(() =>
    {
        using var pki = new TestPki();
        return pki.Credentials(pki.Source);
    });

    public static TheoryData<Type> OptionsTypes() =>
    [
        typeof(SecureChannelOptions), typeof(PeerPolicy), typeof(SecureChannelListenerOptions), typeof(SanitizerOptions),
        typeof(TunnelOptions), typeof(QmpClientOptions), typeof(QemuDriverOptions), typeof(AdmissionOptions), typeof(BackoffOptions),
        typeof(CircuitBreakerOptions), typeof(RetryBudgetOptions), typeof(MigrationAgentOptions), typeof(EtcdRegistryOptions),
    ];

    [Theory]
    [MemberData(nameof(OptionsTypes))]
    public void Snapshot_HoldsEveryValue_AndSharesNothingMutable(Type type)
    {
        object original = Activator.CreateInstance(type)!;
        PropertyInfo[] properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (PropertyInfo property in properties.Where(p => p.CanWrite && p.SetMethod!.IsPublic))
        {
            object? changed = Different(property.PropertyType, property.GetValue(original));
            Assert.True(changed is not null, $"{type.Name}.{property.Name}: the test cannot make a value of {property.PropertyType.Name}");
            property.SetValue(original, changed);
        }

        object snapshot = type.GetMethod("Snapshot", BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes)!.Invoke(original,
            null)!;

        foreach (PropertyInfo property in properties)
        {
            object? before = property.GetValue(original);
            object? after = property.GetValue(snapshot);
            if (before is IEnumerable and not string || IsOptions(property.PropertyType))
            {
                Assert.False(ReferenceEquals(before, after), $"{type.Name}.{property.Name} is shared with the snapshot");
            }
            else
            {
                Assert.True(Equals(before, after), $"{type.Name}.{property.Name} is {before} but {after} in the snapshot");
            }
        }
    }

    [Fact]
    public async Task Components_KeepTheirOwnSnapshot_NotTheCallersOptions()
    {
        using var pki = new TestPki();
        using var directory = new TempDirectory();
        var channel = new SecureChannelOptions { Credentials = pki.Credentials(pki.Source) };
        var listenerOptions = new SecureChannelListenerOptions();
        var tunnel = new TunnelOptions { AllowAnyPeer = true };
        var sanitizer = new SanitizerOptions();
        var qemu = new QemuDriverOptions { RuntimeDirectory = directory.Path };
        var factory = new SecureChannelFactory(channel);
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory, listenerOptions);
        await using var acceptor = new TunnelAcceptor(new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.Loopback, 1), factory,
            options: tunnel);
        await using var driver = new QemuDriver(qemu);
        EtcdRegistryOptions etcd = EtcdRegistryOptions.Parse("etcd://127.0.0.1:1", pki.Credentials(pki.Source));
        using var registry = new EtcdOwnershipRegistry(etcd);

        (object Component, object Options)[] pairs =
        [
            (factory, channel), (listener, listenerOptions), (acceptor, tunnel), (new BlockSanitizer(sanitizer), sanitizer), (driver, qemu),
            (registry, etcd),
        ];
        foreach ((object component, object options) in pairs)
        {
            object kept = component.GetType().GetField("_options", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(component)!;
            Assert.False(ReferenceEquals(options, kept), $"{component.GetType().Name} keeps the caller's {options.GetType().Name}");
        }

        channel.LocalIdentity = "changed.test";
        Assert.Equal("source.test", factory.LocalIdentity);
    }

    private static bool IsOptions(Type type) => type.Name.EndsWith("Options", StringComparison.Ordinal) || type == typeof(PeerPolicy);

    /// <summary>A value of <paramref name="type"/> that differs from <paramref name="current"/>.</summary>
    private static object? Different(Type type, object? current)
    {
        Type plain = Nullable.GetUnderlyingType(type) ?? type;
        return plain switch
        {
            _ when plain == typeof(int) => (current as int? ?? 0) + 3,
            _ when plain == typeof(long) => (current as long? ?? 0) + 3,
            _ when plain == typeof(double) => (current as double? ?? 0) + 0.5,
            _ when plain == typeof(bool) => !(current as bool? ?? false),
            _ when plain == typeof(string) => "changed-" + current,
            _ when plain == typeof(TimeSpan) => (current as TimeSpan? ?? TimeSpan.Zero) + TimeSpan.FromSeconds(7),
            _ when plain == typeof(TimeProvider) => new FakeTimeProvider(),
            _ when plain.IsEnum => Enum.GetValues(plain).Cast<object>().First(v => !v.Equals(current)),
            _ when plain == typeof(ChannelCredentials) => new PskChannelCredentials("changed", new byte[32]),
            _ when plain == typeof(X509ChannelCredentials) => X509.Value,
            _ when plain == typeof(IProgress<QemuMigrationInfo>) => new Progress<QemuMigrationInfo>(),
            _ when plain == typeof(ITicketValidator) => new NoTicketValidator(),
            _ when plain == typeof(HostKey) => HostKey.FromSecret(new byte[32]),
            _ when plain == typeof(EndPoint) => new IPEndPoint(IPAddress.Loopback, 1),
            _ when IsOptions(plain) => Activator.CreateInstance(plain),
            _ => null,
        };
    }

    private sealed class NoTicketValidator : ITicketValidator
    {
        public ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer,
            CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
