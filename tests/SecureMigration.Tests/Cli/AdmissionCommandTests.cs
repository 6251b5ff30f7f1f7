using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>'secmig admission reset' and 'secmig status' on a real host's work directory, as an operator runs them (issue 16).</summary>
public sealed class AdmissionCommandTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private string StatePath => _work.File("admission.state");

    /// <summary>A work directory as 'secmig migrate' leaves it after three failed attempts: vm1's breaker open now, one audit
    /// entry.</summary>
    private async Task ThrashedWorkAsync()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(12));
        var admission = new AdmissionController(new AdmissionOptions(), clock, new Random(3));
        admission.TryAdmit(new MigrationRequest("vm1", "src.test", "dst.test",
            MigrationTrigger.Manual)).Lease.Complete(MigrationOutcome.Failed);
        for (int i = 0; i < 2; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(6));
            admission.TryAdmit(new MigrationRequest("vm1", "src.test", "dst.test",
                MigrationTrigger.Retry)).Lease.Complete(MigrationOutcome.Failed);
        }

        await admission.SaveAsync(new FileAdmissionStateStore(StatePath));
        using HostKey key = HostKey.LoadOrCreate(_work.File("host.key"));
        using AuditLog audit = AuditLog.Open(_work.File("audit.log"), "src.test", key);
        await audit.AppendAsync(Guid.NewGuid(), "vm1", "rolled-back", "the destination refused");
    }

    [Fact]
    public async Task Reset_BreakerOpen_ClearsItAuditsWhoAndTheNextMigrationIsAdmitted()
    {
        await ThrashedWorkAsync();
        AdmissionController before = await AdmissionController.RestoreAsync(new AdmissionOptions(), new FileAdmissionStateStore(StatePath));
        Assert.False(before.TryAdmit(new MigrationRequest("vm1", "src.test", "dst.test", MigrationTrigger.Manual)).IsAdmitted);

        (int exit, string output) = await Secmig.RunAsync("admission", "reset", "--work", _work.Path, "--vm", "vm1");

        Assert.True(exit == 0, output);
        Assert.Contains("admission reset vm1: cleared VM 'vm1': breaker open for", output, StringComparison.Ordinal);
        AdmissionController after = await AdmissionController.RestoreAsync(new AdmissionOptions(), new FileAdmissionStateStore(StatePath));
        Assert.True(after.TryAdmit(new MigrationRequest("vm1", "src.test", "dst.test", MigrationTrigger.Manual)).IsAdmitted);
        using HostKey key = HostKey.LoadOrCreate(_work.File("host.key"));
        AuditVerification audit = AuditLog.Verify(_work.File("audit.log"), key);
        Assert.True(audit.IsIntact, audit.Problem);
        AuditEntry reset = audit.Entries[^1];
        Assert.Equal(("admission-reset", "vm1", "src.test"), (reset.Event, reset.VmId, reset.Host));
        Assert.Contains($"by '{Environment.UserName}'", reset.Detail, StringComparison.Ordinal);
        Assert.Contains("breaker open", reset.Detail, StringComparison.Ordinal);
    }

    /// <summary>'secmig status' on a real host's --work and --registry: owner, epoch, latest phase, and what holds the VM back.</summary>
    [Fact]
    public async Task Status_OnARealHostsWork_ShowsOwnerPhaseAndTheOpenBreaker()
    {
        await ThrashedWorkAsync();
        using (HostKey key = HostKey.LoadOrCreate(_work.File("host.key")))
        using (MigrationJournal journal = MigrationJournal.Open(_work.File("journal.smj"), key))
        {
            var admitted = new JournalRecord
            {
                MigrationId = Guid.NewGuid(), Role = MigrationRole.Source, Phase = MigrationPhase.Admitted, VmId = "vm1",
                SourceHost = "src.test", DestinationHost = "dst.test", Epoch = 1,
            };
            await journal.AppendAsync(admitted);
            await journal.AppendAsync(admitted with { Phase = MigrationPhase.RollingBack, Reason = "the destination refused the ticket" });
            await journal.AppendAsync(admitted with { Phase = MigrationPhase.RolledBack, Reason = "the destination refused the ticket" });
        }

        await new FileOwnershipRegistry(_work.File("registry")).RegisterAsync("vm1", "src.test");

        (int exit, string output) = await Secmig.RunAsync("status", "--work", _work.Path, "--registry", _work.File("registry"));

        Assert.True(exit == 0, output);
        Assert.Contains("vm1: owner src.test, epoch 1", output, StringComparison.Ordinal);
        Assert.Contains("(Source) RolledBack: the destination refused the ticket", output, StringComparison.Ordinal);
        Assert.Contains("held back: breaker open for", output, StringComparison.Ordinal);
        Assert.Contains("(secmig admission reset clears it)", output, StringComparison.Ordinal);
        Assert.False(File.Exists(_work.File(".lock")), "status changes nothing");
    }

    /// <summary>Issue 16: 'secmig recover' on a real host's --work without the host's credentials says what it needs and writes
    /// nothing.</summary>
    [Fact]
    public async Task Recover_OnARealHostsWorkWithoutCredentials_Exits2NamingWhatItNeedsAndWritesNothing()
    {
        await ThrashedWorkAsync();
        string[] before = Directory.GetFileSystemEntries(_work.Path);

        (int exit, string output) = await Secmig.RunAsync("recover", "--work", _work.Path);

        Assert.True(exit == 2, output);
        Assert.Contains("is a real host's work directory: recovering it needs the credentials", output, StringComparison.Ordinal);
        Assert.Contains("--vm ID=QMP", output, StringComparison.Ordinal);
        Assert.Contains("the shared --registry", output, StringComparison.Ordinal);
        Assert.DoesNotContain("secmig demo", output, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(_work.Path));
    }

    /// <summary>Recovery decides by the registry: on a real host it never falls back to the default WORK/ownership.</summary>
    [Fact]
    public async Task Recover_OnARealHostsWorkWithoutRegistry_Exits2AndWritesNothing()
    {
        await ThrashedWorkAsync();
        using var pki = new TempDirectory();
        foreach (string[] step in new[] { ["pki", "init", "--out", pki.File("ca")], new[] { "pki", "issue", "--ca", pki.File("ca"),
            "--name", "src.test", "--out", pki.File("src") } })
        {
            (int made, string said) = await Secmig.RunAsync(step);
            Assert.True(made == 0, said);
        }

        string[] before = Directory.GetFileSystemEntries(_work.Path);

        (int exit, string output) = await Secmig.RunAsync(
            "recover", "--work", _work.Path, "--cert", pki.File("src/cert.pem"), "--key", pki.File("src/key.pem"), "--ca",
                pki.File("ca/ca.pem"));

        Assert.True(exit == 2, output);
        Assert.Contains("the shared --registry it decides by", output, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(_work.Path));
    }

    /// <summary>A reset must never go unrecorded: an audit log that fails verification stops it before the state changes.</summary>
    [Fact]
    public async Task Reset_AuditLogTampered_Exits2AndLeavesTheBreakerAndTheLogAsTheyWere()
    {
        await ThrashedWorkAsync();
        byte[] state = await File.ReadAllBytesAsync(StatePath);
        string log = await File.ReadAllTextAsync(_work.File("audit.log"));
        string tampered = log.Replace("the destination refused", "the destination agreed", StringComparison.Ordinal);
        Assert.NotEqual(log, tampered);
        await File.WriteAllTextAsync(_work.File("audit.log"), tampered);

        (int exit, string output) = await Secmig.RunAsync("admission", "reset", "--work", _work.Path, "--vm", "vm1");

        Assert.True(exit == 2, output);
        Assert.Contains("fails verification", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.Equal(state, await File.ReadAllBytesAsync(StatePath));
        Assert.Equal(tampered, await File.ReadAllTextAsync(_work.File("audit.log")));
    }

    [Fact]
    public async Task Reset_WhileAnotherProcessHoldsTheWork_Exits2AndChangesNothing()
    {
        await ThrashedWorkAsync();
        byte[] state = await File.ReadAllBytesAsync(StatePath);
        using HostStateLock held = HostStateLock.TryAcquire(_work.Path)!;

        (int exit, string output) = await Secmig.RunAsync("admission", "reset", "--work", _work.Path);

        Assert.True(exit == 2, output);
        Assert.Contains("Another secmig process (an agent or a migrate) holds the work directory", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.Equal(state, await File.ReadAllBytesAsync(StatePath));
    }

    [Fact]
    public async Task Reset_WorkDirectoryMissing_Exits2NamingIt()
    {
        string missing = _work.File("no-such-work");

        (int exit, string output) = await Secmig.RunAsync("admission", "reset", "--work", missing);

        Assert.True(exit == 2, output);
        Assert.Contains($"The work directory '{missing}' does not exist", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }
}
