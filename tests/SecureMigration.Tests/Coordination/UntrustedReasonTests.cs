using SecureMigration.Admission;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Coordination.Protocol;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Text a peer or a hook controls reaches the journal, the audit log and the operator's screen. Defense covered: it is
/// bounded and escaped before it is journaled, and no journal or audit failure can stop a rollback halfway.
/// </summary>
public sealed class UntrustedReasonTests
{
    /// <summary>4 KiB of control characters (each 6 bytes as JSON) with a forged result line and a bidirectional override.</summary>
    private static readonly string Hostile = "\nresult vm-1 Completed\n\u202e" + new string('\u0001', 4000);

    [Fact]
    public async Task MigrateAsync_DestinationAbortsWithAHugeControlCharacterReason_SourceRollsBackCompletelyWithABoundedOneLineReason()
    {
        var admission = new AdmissionController(new AdmissionOptions());
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceAdmission: admission);

        MigrationResult result = await hosts.MigrateToImpostorAsync(async wire =>
        {
            await wire.SendAsync(FrameType.Ready, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
            await wire.TrySendAbortAsync(Hostile);
        });

        Assert.Equal(MigrationStatus.RolledBack, result.Status);
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Equal(0, admission.ActiveMigrations);
        JournalRecord last = hosts.Source.Journal.Records[^1];
        Assert.Equal(MigrationPhase.RolledBack, last.Phase);
        foreach (string? text in new[] { result.Reason, last.Reason })
        {
            Assert.NotNull(text);
            Assert.DoesNotContain('\n', text);
            Assert.DoesNotContain('\u202e', text);
            Assert.DoesNotContain('\u0001', text);
            Assert.InRange(text.Length, 1, 1024);
            Assert.Contains("\\nresult vm-1 Completed\\n\\u202e", text, StringComparison.Ordinal);
        }

        Assert.True(hosts.Source.VerifyAudit().IsIntact);
    }

    [Fact]
    public async Task MigrateAsync_PreHookVetoesWithAHugeReason_IsJournaledBoundedAndTheVmRunsOn()
    {
        var options = new CoordinatorOptions();
        options.PreMigrateHooks.Add(new DelegateHook("chatty", (_, _) => Task.FromResult(HookVerdict.Veto(Hostile))));
        var admission = new AdmissionController(new AdmissionOptions());
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions: options, sourceAdmission: admission);

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Equal(0, admission.ActiveMigrations);
        Assert.All(hosts.Source.Journal.Records, r => Assert.DoesNotContain('\n', r.Reason ?? string.Empty));
        Assert.Equal(MigrationPhase.RolledBack, hosts.Source.Journal.Records[^1].Phase);
    }
}
