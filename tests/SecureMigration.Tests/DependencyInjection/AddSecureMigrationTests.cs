using Microsoft.Extensions.DependencyInjection;
using SecureMigration.Admission;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.DependencyInjection;
using SecureMigration.Hosting;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.DependencyInjection;

public sealed class AddSecureMigrationTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task AddSecureMigration_ResolvesEveryPartOnceAndTheCoordinatorMigratesAVm()
    {
        using var dir = new TempDirectory();
        var before = new DelegateHook("before", (_, _) => Task.FromResult(HookVerdict.Allow));
        var after = new DelegateHook("after", (_, _) => Task.FromResult(HookVerdict.Allow));
        await using ServiceProvider source = new ServiceCollection().AddSecureMigration(builder =>
        {
            Configure(builder, dir, "source", pki.Source);
            builder.AddPreMigrateHook(before).AddPostMigrateHook(after);
        }).BuildServiceProvider();
        await using ServiceProvider destination = Host(dir, "destination", pki.Destination);

        foreach (Type part in new[] { typeof(SecureChannelFactory), typeof(MigrationHost), typeof(IMigrationJournal), typeof(IAuditSink),
            typeof(IOwnershipRegistry), typeof(HypervisorDriver), typeof(AdmissionController), typeof(MigrationCoordinator) })
        {
            Assert.Same(source.GetRequiredService(part), source.GetRequiredService(part));
        }

        var hypervisor = (SimulatedHypervisor)source.GetRequiredService<HypervisorDriver>();
        await hypervisor.CreateVmAsync("vm-di", 1024 * 1024);
        await source.GetRequiredService<IOwnershipRegistry>().RegisterAsync("vm-di", "source.test");
        await using var listener = new SecureChannelListener(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            destination.GetRequiredService<SecureChannelFactory>());
        listener.Start();
        Task<MigrationResult> received = ReceiveAsync(destination, listener);

        MigrationResult sent = await source.GetRequiredService<MigrationCoordinator>().MigrateAsync("vm-di", "destination.test",
            async (ticket, token) => await source.GetRequiredService<SecureChannelFactory>().ConnectAsync(listener.LocalEndPoint, ticket,
                token));

        Assert.Equal(MigrationStatus.Completed, sent.Status);
        Assert.Equal(MigrationStatus.Completed, (await received).Status);
        Assert.Equal("destination.test", (await source.GetRequiredService<IOwnershipRegistry>().GetAsync("vm-di"))!.Owner);
        Assert.Single(before.Calls);
        Assert.Single(after.Calls);
    }

    [Theory]
    [InlineData("stall", "CoordinatorOptions.StallTimeout is 00:00:00; it must be positive.")]
    [InlineData("handshake", "SecureChannelOptions.HandshakeTimeout is 01:00:00; it must be above zero and at most 10 minutes.")]
    [InlineData("journal", "SecureMigrationBuilder.JournalPath is empty; set it to a file for the host's migration journal.")]
    [InlineData("driver", "SecureMigrationBuilder has no hypervisor driver; call UseDriver")]
    [InlineData("registry", "SecureMigrationBuilder has no ownership registry; call UseFileOwnershipRegistry(directory) or " +
        "UseOwnershipRegistry.")]
    public void AddSecureMigration_BadOrMissingOption_FailsAtStartUpNamingItsValueAndWhatIsAllowed(string broken, string message)
    {
        using var dir = new TempDirectory();

        Exception error = Assert.ThrowsAny<Exception>(() => new ServiceCollection().AddSecureMigration(builder =>
        {
            Configure(builder, dir, "source", pki.Source, withDriver: broken != "driver", withRegistry: broken != "registry");
            switch (broken)
            {
                case "stall":
                    builder.Coordinator.StallTimeout = TimeSpan.Zero;
                    break;
                case "handshake":
                    builder.Channel.HandshakeTimeout = TimeSpan.FromHours(1);
                    break;
                case "journal":
                    builder.JournalPath = null;
                    break;
            }
        }));

        Assert.True(error is ArgumentException or InvalidOperationException, error.ToString());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private ServiceProvider Host(TempDirectory dir, string name, SecureMigration.Testing.Pki.IssuedCredential credential) =>
        new ServiceCollection().AddSecureMigration(builder => Configure(builder, dir, name, credential)).BuildServiceProvider();

    private void Configure(SecureMigrationBuilder builder, TempDirectory dir, string name,
        SecureMigration.Testing.Pki.IssuedCredential credential,
        bool withDriver = true, bool withRegistry = true)
    {
        builder.Channel.Credentials = pki.Credentials(credential);
        builder.JournalPath = dir.File(name + ".smj");
        builder.AuditLogPath = dir.File(name + ".audit");
        builder.CertificateDirectory = dir.File(name + "-certificates");
        builder.UseAdmission();
        if (withRegistry)
        {
            builder.UseFileOwnershipRegistry(dir.File("ownership"));
        }

        if (withDriver)
        {
            builder.UseDriver(_ => new SimulatedHypervisor(dir.File(name + "-vms")));
        }
    }

    private static async Task<MigrationResult> ReceiveAsync(ServiceProvider destination, SecureChannelListener listener)
    {
        ChannelConnection connection = (await listener.AcceptAsync())!;
        return await destination.GetRequiredService<MigrationCoordinator>().ReceiveAsync(connection);
    }
}
