using Microsoft.Extensions.Time.Testing;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>A step readied ahead is skipped only on the very monitor connection it was readied on, once, soon after, and never
/// after the work failed.</summary>
public sealed class MonitorMarkTests : IAsyncLifetime
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new();
    private readonly TempDirectory _dir = new();
    private readonly List<IAsyncDisposable> _owned = [];
    private QmpClient _first = null!;
    private QmpClient _second = null!;

    public async Task InitializeAsync()
    {
        _first = await ConnectAsync("first.qmp");
        _second = await ConnectAsync("second.qmp");
    }

    [Fact]
    public async Task Take_OnTheConnectionItWasReadiedOn_SkipsOnce()
    {
        var mark = new MonitorMark(_time, MaxAge);

        await mark.ReadyAsync(_first, () => Task.CompletedTask);

        Assert.True(mark.Take(_first));
        Assert.False(mark.Take(_first));
    }

    [Fact]
    public async Task Take_OnAnotherConnection_DoesNotSkipAndForgets()
    {
        var mark = new MonitorMark(_time, MaxAge);

        await mark.ReadyAsync(_first, () => Task.CompletedTask);

        Assert.False(mark.Take(_second));
        Assert.False(mark.Take(_first));
    }

    [Fact]
    public async Task ReadyAsync_WorkFails_LeavesNoMarkNotEvenAnEarlierOne()
    {
        var mark = new MonitorMark(_time, MaxAge);
        await mark.ReadyAsync(_first, () => Task.CompletedTask);

        await Assert.ThrowsAsync<InvalidOperationException>(() => mark.ReadyAsync(_first,
            () => throw new InvalidOperationException("the guest is running")));

        Assert.False(mark.Take(_first));
    }

    /// <summary>A run that ended before its step (a veto, a failed checkpoint) leaves its mark; a later step does not rely on it
    /// once it is as old as the mark may be.</summary>
    [Fact]
    public async Task Take_AsOldAsTheMarkMayBe_DoesNotSkip()
    {
        var mark = new MonitorMark(_time, MaxAge);
        await mark.ReadyAsync(_first, () => Task.CompletedTask);

        _time.Advance(MaxAge);

        Assert.False(mark.Take(_first));
    }

    [Fact]
    public async Task Forget_ThenTake_DoesNotSkip()
    {
        var mark = new MonitorMark(_time, MaxAge);
        await mark.ReadyAsync(_first, () => Task.CompletedTask);

        mark.Forget();

        Assert.False(mark.Take(_first));
    }

    public async Task DisposeAsync()
    {
        foreach (IAsyncDisposable owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        _dir.Dispose();
    }

    private async Task<QmpClient> ConnectAsync(string name)
    {
        var server = new FakeQmpServer(_dir.File(name), async connection =>
        {
            await connection.NegotiateAsync();
            await connection.ReceiveAsync(); // holds the connection open until the client closes it
        });
        _owned.Add(server);
        QmpClient client = await QmpClient.ConnectAsync(server.EndPoint);
        _owned.Add(client);
        return client;
    }
}
