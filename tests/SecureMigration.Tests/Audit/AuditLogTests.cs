using SecureMigration.Audit;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Audit;

public sealed class AuditLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly HostKey _key = HostKey.FromSecret(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private string LogPath => _dir.File("audit.log");

    public void Dispose()
    {
        _key.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task AppendAsync_ThenReopen_ContinuesTheChainAndVerifies()
    {
        var migration = Guid.NewGuid();
        using (AuditLog log = AuditLog.Open(LogPath, "host-a", _key))
        {
            await log.AppendAsync(migration, "vm-1", "Admitted");
            await log.AppendAsync(migration, "vm-1", "Snapshotted", "snapshot at /tmp/x");
        }

        using (AuditLog log = AuditLog.Open(LogPath, "host-a", _key))
        {
            await log.AppendAsync(migration, "vm-1", "RollingBack", "the peer closed the channel");
        }

        AuditVerification verification = AuditLog.Verify(LogPath, _key);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(["Admitted", "Snapshotted", "RollingBack"], verification.Entries.Select(e => e.Event));
        Assert.Equal([1L, 2L, 3L], verification.Entries.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Verify_EditedLine_ReportsItsLineNumber()
    {
        await WriteThreeAsync();
        string[] lines = File.ReadAllLines(LogPath);
        lines[1] = lines[1].Replace("Snapshotted", "Committedxx", StringComparison.Ordinal);
        File.WriteAllLines(LogPath, lines);

        AuditVerification verification = AuditLog.Verify(LogPath, _key);

        Assert.False(verification.IsIntact);
        Assert.StartsWith("line 2 (host 'host-a', after entry 1) was edited or forged", verification.Problem, StringComparison.Ordinal);
        Assert.Single(verification.Entries);
        Assert.Throws<InvalidDataException>(() => AuditLog.Open(LogPath, "host-a", _key));
    }

    [Fact]
    public async Task Verify_DeletedLine_ReportsTheBrokenChain()
    {
        await WriteThreeAsync();
        string[] lines = File.ReadAllLines(LogPath);
        File.WriteAllLines(LogPath, [lines[0], lines[2]]);

        AuditVerification verification = AuditLog.Verify(LogPath, _key);

        Assert.False(verification.IsIntact);
        Assert.Contains("line 2 (host 'host-a', after entry 1) does not follow", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_TornLastLine_IsCutOffAndTheChainContinues()
    {
        await WriteThreeAsync();
        byte[] bytes = File.ReadAllBytes(LogPath);
        File.WriteAllBytes(LogPath, bytes.AsSpan(0, bytes.Length - 20).ToArray());
        Assert.True(AuditLog.Verify(LogPath, _key).TornTail);

        using (AuditLog log = AuditLog.Open(LogPath, "host-a", _key))
        {
            await log.AppendAsync(null, null, "recovered");
        }

        AuditVerification verification = AuditLog.Verify(LogPath, _key);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.False(verification.TornTail);
        Assert.Equal(["Admitted", "Snapshotted", "recovered"], verification.Entries.Select(e => e.Event));
    }

    /// <summary>
    /// Defense (issue 14, hole 5): whoever can write the log but lacks the host key cannot rewrite history, even by
    /// recomputing every line's check value as an unkeyed hash chain would allow.
    /// </summary>
    [Fact]
    public async Task Verify_LineRewrittenWithARecomputedChain_IsForgedWithoutTheHostKey()
    {
        await WriteThreeAsync();
        using var attackerKey = HostKey.FromSecret(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        File.Delete(LogPath);
        using (AuditLog forged = AuditLog.Open(LogPath, "host-a", attackerKey))
        {
            var migration = Guid.NewGuid();
            await forged.AppendAsync(migration, "vm-1", "Admitted");
            await forged.AppendAsync(migration, "vm-1", "Completed", "nothing to see");
        }

        AuditVerification verification = AuditLog.Verify(LogPath, _key);

        Assert.False(verification.IsIntact);
        Assert.StartsWith("line 1 was edited or forged", verification.Problem, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => AuditLog.Open(LogPath, "host-a", _key));
    }

    private async Task WriteThreeAsync()
    {
        using AuditLog log = AuditLog.Open(LogPath, "host-a", _key);
        var migration = Guid.NewGuid();
        await log.AppendAsync(migration, "vm-1", "Admitted");
        await log.AppendAsync(migration, "vm-1", "Snapshotted");
        await log.AppendAsync(migration, "vm-1", "PreHooksDone");
    }
}
