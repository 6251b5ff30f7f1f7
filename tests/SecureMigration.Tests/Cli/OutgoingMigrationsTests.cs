using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel;
using SecureMigration.Cli.Control;
using SecureMigration.Cli.Live;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>The migrations the agent's control API starts as a source, against the host's own journal.</summary>
public sealed class OutgoingMigrationsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestPki _pki = new();

    /// <summary>A VM still arriving here (its incoming migration unfinished in the journal) is not sent away: 409, with why.</summary>
    [Fact]
    public async Task Start_VmWithAnUnfinishedIncomingMigration_IsAConflictThatSaysWhy()
    {
        await using LiveHost host = await LiveHost.OpenAsync(Settings(), CancellationToken.None);
        var incoming = Guid.NewGuid();
        await host.Journal.AppendAsync(new JournalRecord
        {
            MigrationId = incoming, Role = MigrationRole.Destination, Phase = MigrationPhase.ChannelOpen, VmId = "vm1",
            SourceHost = "src.test", DestinationHost = host.Id, Epoch = 1,
        });
        var outgoing = new OutgoingMigrations(host, ["vm1"], TimeProvider.System, (_, _) => { });
        try
        {
            (OutgoingMigration? started, string? invalid, string? conflict) = outgoing.Start(new MigrationRequest("vm1",
                "127.0.0.1:4443", "src.test", 0));

            Assert.Null(started);
            Assert.Null(invalid);
            Assert.Equal($"VM 'vm1' is still arriving on this host (incoming migration {incoming}, ChannelOpen): it can leave only " +
                "once it has arrived; ask again when GET /v1/vms shows it Completed", conflict);
        }
        finally
        {
            await outgoing.StopAsync();
        }
    }

    public void Dispose()
    {
        _pki.Dispose();
        _dir.Dispose();
    }

    private LiveHostSettings Settings() => new(
        _dir.File("work"), _dir.File("registry"), new SecureChannelOptions { Credentials = _pki.Credentials(_pki.Destination) },
        [new QemuVm("vm1", QmpEndPoints.Parse(_dir.File("vm1.qmp")))], null, SanitizationMethod.Zero, [], false,
        TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), null,
        NullLoggerFactory.Instance);
}
