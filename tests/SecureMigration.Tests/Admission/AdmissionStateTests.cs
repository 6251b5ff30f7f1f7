using CsCheck;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Admission;

public sealed class AdmissionStateTests : IDisposable
{
    private readonly TempDirectory _work = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _work.Dispose();

    private FileAdmissionStateStore Store => new(_work.File("admission/state.bin"));

    private async Task<AdmissionController> ThrashedAndSavedAsync()
    {
        var admission = new AdmissionController(new AdmissionOptions(), _time, new Random(3));
        admission.TryAdmit(new MigrationRequest("vm-1", "a", "b", MigrationTrigger.Manual)).Lease.Complete(MigrationOutcome.Failed);
        for (int i = 0; i < 2; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(6));
            admission.TryAdmit(new MigrationRequest("vm-1", "a", "b", MigrationTrigger.Retry)).Lease.Complete(MigrationOutcome.Failed);
        }

        await admission.SaveAsync(Store);
        return admission;
    }

    [Fact]
    public async Task Restore_AfterRestart_KeepsTheOpenBreakerAndHistory()
    {
        await ThrashedAndSavedAsync();

        AdmissionController restarted = await AdmissionController.RestoreAsync(new AdmissionOptions(), Store, _time, new Random(3));

        Assert.Equal(AdmissionRestore.Restored, restarted.RestoredFrom);
        Assert.Equal(AdmissionDenialReason.CircuitOpen, restarted.TryAdmit(new MigrationRequest("vm-1", "a", "b",
            MigrationTrigger.Manual)).Reason);
        Assert.Empty(Directory.GetFiles(_work.File("admission"), "*.tmp"));
    }

    [Fact]
    public async Task Reset_OneVm_ClearsItsBreakerBackoffAndBudgetAndSaysWhat()
    {
        AdmissionController admission = await ThrashedAndSavedAsync();

        Assert.DoesNotContain(admission.Reset("vm-2"), c => c.Contains("vm-2", StringComparison.Ordinal));
        IReadOnlyList<string> cleared = admission.Reset("vm-1");

        Assert.Contains(cleared, c => c.StartsWith("VM 'vm-1': breaker open for", StringComparison.Ordinal));
        Assert.True(admission.TryAdmit(new MigrationRequest("vm-1", "a", "b", MigrationTrigger.Manual)).IsAdmitted);
        Assert.Empty(admission.Reset("vm-1"));
    }

    [Fact]
    public async Task Reset_Everything_ClearsTheRestrictionOfADamagedStateToo()
    {
        await ThrashedAndSavedAsync();
        byte[] saved = await File.ReadAllBytesAsync(Store.Path);
        saved[^1] ^= 1;
        await File.WriteAllBytesAsync(Store.Path, saved);
        AdmissionController restricted = await AdmissionController.RestoreAsync(new AdmissionOptions(), Store, _time);
        Assert.False(restricted.TryAdmit(new MigrationRequest("vm-9", "a", "c", MigrationTrigger.Automatic)).IsAdmitted);

        IReadOnlyList<string> cleared = restricted.Reset();

        Assert.Contains(cleared, c => c.StartsWith("restriction after a damaged admission state", StringComparison.Ordinal));
        Assert.True(restricted.TryAdmit(new MigrationRequest("vm-9", "a", "c", MigrationTrigger.Automatic)).IsAdmitted);
    }

    [Fact]
    public async Task Restore_NothingSaved_StartsFresh()
    {
        AdmissionController admission = await AdmissionController.RestoreAsync(new AdmissionOptions(), Store, _time);

        Assert.Equal(AdmissionRestore.Fresh, admission.RestoredFrom);
        Assert.True(admission.TryAdmit(new MigrationRequest("vm-1", "a", "b", MigrationTrigger.Automatic)).IsAdmitted);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    public async Task Restore_DamagedState_IsDetectedReportedAndStartsMostRestrictive(string damage)
    {
        await ThrashedAndSavedAsync();
        byte[] saved = await File.ReadAllBytesAsync(Store.Path);
        byte[] damaged = damage switch
        {
            "flip" => Flip(saved, saved.Length / 2),
            "truncate" => saved[..(saved.Length / 2)],
            _ => "not a state file at all"u8.ToArray(),
        };
        await File.WriteAllBytesAsync(Store.Path, damaged);

        AdmissionController restarted = await AdmissionController.RestoreAsync(new AdmissionOptions(), Store, _time);

        Assert.Equal(AdmissionRestore.DamagedStateRestricted, restarted.RestoredFrom);
        Assert.False(string.IsNullOrEmpty(restarted.RestoreProblem));
        AdmissionDecision retry = restarted.TryAdmit(new MigrationRequest("vm-2", "c", "d", MigrationTrigger.Retry));
        Assert.Equal(AdmissionDenialReason.RecoveringFromDamagedState, retry.Reason);
        Assert.True(retry.RetryAfter >= new AdmissionOptions().MinDwellTime);
        Assert.Equal(AdmissionDenialReason.RecoveringFromDamagedState, restarted.TryAdmit(new MigrationRequest("vm-3", "c", "d",
            MigrationTrigger.Automatic)).Reason);
        Assert.True(restarted.TryAdmit(new MigrationRequest("vm-4", "c", "d", MigrationTrigger.Manual)).IsAdmitted);
    }

    [Fact]
    public async Task Restore_ChecksumFailure_SaysSo()
    {
        await ThrashedAndSavedAsync();
        byte[] saved = await File.ReadAllBytesAsync(Store.Path);
        await File.WriteAllBytesAsync(Store.Path, Flip(saved, 10));

        AdmissionController restarted = await AdmissionController.RestoreAsync(new AdmissionOptions(), Store, _time);

        Assert.Contains("checksum does not match", restarted.RestoreProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AnyBytes_NeverThrowsAndNeverTrustsThem()
    {
        Gen.Byte.Array[0, 2000].Sample(bytes =>
        {
            Assert.False(AdmissionStateCodec.TryDecode(bytes, out AdmissionSnapshot? snapshot, out string problem));
            Assert.Null(snapshot);
            Assert.False(string.IsNullOrEmpty(problem));
        });
    }

    [Fact]
    public void Decode_ResealedGarbage_IsRefusedAsContent()
    {
        // Even with a correct checksum (an editor who recomputed it), content that is not a state is refused.
        Gen.String.Sample(text =>
        {
            byte[] json = System.Text.Encoding.UTF8.GetBytes(text);
            byte[] sealedState = [.. "SMADM"u8, 1, .. json, .. new byte[32]];
            System.Security.Cryptography.SHA256.HashData(sealedState.AsSpan(0, sealedState.Length - 32),
                sealedState.AsSpan(sealedState.Length - 32));

            bool decoded = AdmissionStateCodec.TryDecode(sealedState, out AdmissionSnapshot? snapshot, out _);

            Assert.True(!decoded || snapshot is not null);
        });
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        byte[] copy = [.. bytes];
        copy[at] ^= 0x10;
        return copy;
    }
}
