using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class FileOwnershipRegistryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RegisterAsync_NewVm_StartsAtEpochOneAndKeepsAKnownVmAsItIs()
    {
        var registry = new FileOwnershipRegistry(_dir.Path);

        OwnershipRecord first = await registry.RegisterAsync("vm-1", "host-a");
        OwnershipRecord again = await registry.RegisterAsync("vm-1", "host-b");

        Assert.Equal(("host-a", 1L), (first.Owner, first.Epoch));
        Assert.Equal(first, again);
        Assert.Null(await registry.GetAsync("vm-2"));
        Assert.Null(await new FileOwnershipRegistry(Path.Combine(_dir.Path, "not-yet-created")).GetAsync("vm-1"));
    }

    [Fact]
    public async Task TryMoveAsync_ExpectedRecord_MovesTheEpochDurably()
    {
        var registry = new FileOwnershipRegistry(_dir.Path);
        await registry.RegisterAsync("vm-1", "host-a");
        var migration = Guid.NewGuid();

        OwnershipMove move = await registry.TryMoveAsync("vm-1", 1, "host-a", "host-b", migration);

        Assert.True(move.Moved);
        OwnershipRecord? read = await new FileOwnershipRegistry(_dir.Path).GetAsync("vm-1");
        Assert.Equal(("host-b", 2L, (Guid?)migration), (read!.Owner, read.Epoch, read.MigrationId));
    }

    [Fact]
    public async Task TryMoveAsync_StaleExpectation_FailsAndReturnsTheWinner()
    {
        var registry = new FileOwnershipRegistry(_dir.Path);
        await registry.RegisterAsync("vm-1", "host-a");
        var migration = Guid.NewGuid();
        await registry.TryMoveAsync("vm-1", 1, "host-a", "host-a", migration);

        OwnershipMove late = await registry.TryMoveAsync("vm-1", 1, "host-a", "host-b", migration);

        Assert.False(late.Moved);
        Assert.Equal(("host-a", 2L), (late.Current!.Owner, late.Current.Epoch));
    }

    [Fact]
    public async Task TryMoveAsync_ManyRacingCallers_ExactlyOneWinsEachEpoch()
    {
        var registry = new FileOwnershipRegistry(_dir.Path);
        await registry.RegisterAsync("vm-1", "host-a");

        OwnershipMove[] moves = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(async () => await new FileOwnershipRegistry(_dir.Path).TryMoveAsync("vm-1", 1, "host-a", $"host-{i}",
                Guid.NewGuid()))));

        Assert.Single(moves, m => m.Moved);
        OwnershipRecord? final = await registry.GetAsync("vm-1");
        Assert.Equal(2, final!.Epoch);
        Assert.All(moves, m => Assert.Equal(final, m.Current));
    }

    [Fact]
    public async Task GetAsync_EditedRecord_ThrowsWithTheProblem()
    {
        var registry = new FileOwnershipRegistry(_dir.Path);
        await registry.RegisterAsync("vm-1", "host-a");
        string path = Path.Combine(_dir.Path, "vm-1.owner");
        File.WriteAllText(path, File.ReadAllText(path).Replace("host-a", "host-z", StringComparison.Ordinal));

        var bad = await Assert.ThrowsAsync<OwnershipRegistryException>(async () => await registry.GetAsync("vm-1"));

        Assert.Contains("checksum", bad.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData(".hidden")]
    [InlineData("vm 1")]
    [InlineData("")]
    public async Task GetAsync_UnsafeVmId_IsRefused(string vmId)
    {
        var registry = new FileOwnershipRegistry(_dir.Path);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await registry.GetAsync(vmId));
    }
}
