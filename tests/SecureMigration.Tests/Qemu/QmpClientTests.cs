using Microsoft.Extensions.Time.Testing;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

public sealed class QmpClientTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [RequiresQemuFact]
    public async Task ConnectAsync_RealQemu_NegotiatesAndRunsCommands()
    {
        await using QemuVmProcess vm = await QemuVmProcess.StartSourceAsync(_dir.Path, "vm");
        await using QmpClient qmp = await QmpClient.ConnectAsync(QmpEndPoints.Parse("unix:" + vm.AgentMonitor));

        Assert.True(qmp.QemuVersion.Major >= 2, $"QEMU version {qmp.QemuVersion}");
        Assert.Equal("running", (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString());
    }

    [RequiresQemuFact]
    public async Task ExecuteAsync_CommandQemuRefuses_CarriesQemusOwnMessage()
    {
        await using QemuVmProcess vm = await QemuVmProcess.StartSourceAsync(_dir.Path, "vm");
        await using QmpClient qmp = await QmpClient.ConnectAsync(QmpEndPoints.Parse(vm.AgentMonitor));

        QmpCommandException error = await Assert.ThrowsAsync<QmpCommandException>(() => qmp.ExecuteAsync("no-such-command"));

        Assert.Equal("CommandNotFound", error.ErrorClass);
        Assert.Contains("no-such-command", error.Description);
        Assert.Contains(error.Description, error.Message);
        Assert.Equal("running", (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString());
    }

    [RequiresQemuFact]
    public async Task WatchEvents_StopAndCont_DeliversTheirEventsInOrder()
    {
        await using QemuVmProcess vm = await QemuVmProcess.StartSourceAsync(_dir.Path, "vm");
        await using QmpClient qmp = await QmpClient.ConnectAsync(QmpEndPoints.Parse(vm.AgentMonitor));
        using QmpEventWatcher events = qmp.WatchEvents("STOP", "RESUME");

        await qmp.ExecuteAsync("stop");
        await qmp.ExecuteAsync("cont");

        Assert.Equal("STOP", (await events.ReadAsync(TimeSpan.FromSeconds(30))).Name);
        QmpEvent resume = await events.ReadAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("RESUME", resume.Name);
        Assert.True(resume.Timestamp > DateTimeOffset.UnixEpoch);
    }

    [RequiresQemuFact]
    public async Task Quit_QemuExits_ConnectionEndsAndLaterCommandsFail()
    {
        await using QemuVmProcess vm = await QemuVmProcess.StartSourceAsync(_dir.Path, "vm");
        await using QmpClient qmp = await QmpClient.ConnectAsync(QmpEndPoints.Parse(vm.AgentMonitor));
        using QmpEventWatcher events = qmp.WatchEvents();

        await qmp.ExecuteAsync("quit");
        await qmp.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(qmp.IsConnected);
        await Assert.ThrowsAsync<QmpConnectionException>(() => qmp.ExecuteAsync("query-status"));
        Assert.Equal("SHUTDOWN", (await events.ReadAsync(TimeSpan.FromSeconds(1))).Name);
        await Assert.ThrowsAsync<QmpConnectionException>(async () => await events.ReadAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ConnectAsync_NothingListens_SaysWhatToStart()
    {
        QmpConnectionException error = await Assert.ThrowsAsync<QmpConnectionException>(() =>
            QmpClient.ConnectAsync(QmpEndPoints.Parse(_dir.File("none.qmp"))));

        Assert.Contains("-qmp", error.Message);
    }

    [Fact]
    public async Task ConnectAsync_PeerIsNotQmp_IsRefused()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), connection => connection.SendAsync("""{"hello": "I am a serial console"}"""));

        QmpConnectionException error = await Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(server.EndPoint));

        Assert.Contains("does not speak QMP", error.Message);
    }

    /// <summary>A guest-compromised QEMU chooses its run-state word: anything but a short token is kept as "unknown", never as the
    /// megabyte of terminal escapes it sent.</summary>
    [Fact]
    public async Task QueryStatus_ForgedWord_IsKeptOnlyAsAShortToken()
    {
        string forged = "running\\u001b[2J" + new string('x', 100_000);
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            string request = await connection.ReceiveAsync();
            long id = FakeQmpConnection.IdOf(request);
            await connection.SendAsync($$"""{"return": {"status": "{{forged}}", "running": true}, "id": {{id}}}""");
            await connection.ReceiveAsync();
        });
        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint);

        Assert.Equal(SecureMigration.Qemu.QemuMigrationInfo.UnknownStatus, await qmp.QueryStatusAsync(CancellationToken.None));
    }

    /// <summary>Fuzzing (docs/fuzzing.md, finding 6): a greeting whose version is not an object connects, with an unknown
    /// version.</summary>
    [Fact]
    public async Task ConnectAsync_GreetingVersionIsNotAnObject_ConnectsWithAnUnknownVersion()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.SendAsync("""{"QMP": {"version": "9.2.3", "capabilities": []}}""");
            string request = await connection.ReceiveAsync();
            await connection.SendAsync($$"""{"return": {}, "id": {{FakeQmpConnection.IdOf(request)}}}""");
            await connection.ReceiveAsync();
        });

        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint);

        Assert.Equal(new Version(), qmp.QemuVersion);
    }

    /// <summary>Fuzzing (finding 6): a line that is JSON but not an object is refused typed (it was read after being disposed).</summary>
    [Fact]
    public async Task ConnectAsync_GreetingIsAJsonArray_IsRefusedTyped()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), connection => connection.SendAsync("""[1, 2]"""));

        QmpConnectionException error = await Assert.ThrowsAsync<QmpConnectionException>(() => QmpClient.ConnectAsync(server.EndPoint));

        Assert.Contains("sent a JSON Array where QMP sends objects", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Fuzzing (finding 6): an event whose name is not UTF-8 (a guest that escaped into QEMU writes the monitor) ends the
    /// connection typed, where it threw out of the reader; a name that escapes a lone surrogate is not delivered.
    /// </summary>
    [Fact]
    public async Task WatchEvents_NamesThatAreNotText_EndTheConnectionTypedOrAreDropped()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            await connection.ReceiveAsync(); // the client watches events now
            await connection.SendAsync("""{"event": "\udc00", "timestamp": {"seconds": 1, "microseconds": 0}}""");
            await connection.SendAsync("""{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}""");
            await connection.SendRawAsync([.. "{\"event\": \""u8, 0xC3, 0x28, .. "\"}\r\n"u8]);
            await connection.ReceiveAsync();
        });
        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint);
        using QmpEventWatcher events = qmp.WatchEvents();
        Task<System.Text.Json.JsonElement> status = qmp.ExecuteAsync("query-status");

        Assert.Equal("STOP", (await events.ReadAsync(TimeSpan.FromSeconds(30))).Name);
        QmpConnectionException error = await Assert.ThrowsAsync<QmpConnectionException>(() => events.ReadAsync(TimeSpan.FromSeconds(30))
            .AsTask());
        Assert.Contains("sent a line that is not UTF-8", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<QmpConnectionException>(() => status);
    }

    [Fact]
    public async Task ExecuteAsync_AnswerLongerThanTheLimit_BreaksTheConnectionInsteadOfBuffering()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            await connection.ReceiveAsync();
            await connection.SendRawAsync(new byte[64 * 1024]); // no newline, ever
            await connection.ReceiveAsync();
        });
        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint, new QmpClientOptions { MaxMessageBytes = 8192 });

        QmpConnectionException error = await Assert.ThrowsAsync<QmpConnectionException>(() => qmp.ExecuteAsync("query-status"));

        Assert.Contains("over 8192 bytes", error.Message);
        Assert.False(qmp.IsConnected);
    }

    [Fact]
    public async Task ExecuteAsync_QemuNeverAnswers_TimesOutOnTheInjectedClock()
    {
        var clock = new FakeTimeProvider();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            await connection.ReceiveAsync();
            received.SetResult();
            await connection.ReceiveAsync();
        });
        var options = new QmpClientOptions { TimeProvider = clock, CommandTimeout = TimeSpan.FromSeconds(5) };
        options.SettingNames[nameof(QmpClientOptions.CommandTimeout)] = "--qemu-timeout";
        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint, options);

        Task<System.Text.Json.JsonElement> command = qmp.ExecuteAsync("query-migrate");
        await received.Task;
        clock.Advance(TimeSpan.FromSeconds(5));

        QmpTimeoutException error = await Assert.ThrowsAsync<QmpTimeoutException>(() => command);
        Assert.Contains("'query-migrate'", error.Message);
        Assert.Contains("raise --qemu-timeout.", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Fuzzing (docs/fuzzing.md, finding 4): a monitor that greets but never answers qmp_capabilities runs out the
    /// connect timeout, which is a <see cref="QmpTimeoutException"/>, not an untyped cancellation.
    /// </summary>
    [Fact]
    public async Task ConnectAsync_QemuGreetsButNeverAnswersCapabilities_TimesOutTypedOnTheInjectedClock()
    {
        var clock = new FakeTimeProvider();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.SendAsync(FakeQmpServer.Greeting);
            await connection.ReceiveAsync();
            received.SetResult();
            await connection.ReceiveAsync();
        });
        var options = new QmpClientOptions { TimeProvider = clock, ConnectTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(30) };

        Task<QmpClient> connecting = QmpClient.ConnectAsync(server.EndPoint, options);
        await received.Task;
        clock.Advance(TimeSpan.FromSeconds(10));

        QmpTimeoutException error = await Assert.ThrowsAsync<QmpTimeoutException>(() => connecting);
        Assert.Contains("qmp_capabilities", error.Message, StringComparison.Ordinal);
        Assert.Contains("raise QmpClientOptions.ConnectTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_AnswersOutOfOrder_AreMatchedById()
    {
        await using var server = new FakeQmpServer(_dir.File("fake.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            string first = await connection.ReceiveAsync();
            string second = await connection.ReceiveAsync();
            await connection.SendAsync("""{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}""");
            await connection.SendAsync($$"""{"error": {"class": "GenericError", "desc": "second failed"}, "id": {{FakeQmpConnection.IdOf(second)}}}""");
            await connection.SendAsync($$"""{"return": {"status": "running"}, "id": {{FakeQmpConnection.IdOf(first)}}}""");
            await connection.ReceiveAsync();
        });
        await using QmpClient qmp = await QmpClient.ConnectAsync(server.EndPoint);

        Task<System.Text.Json.JsonElement> first = qmp.ExecuteAsync("query-status");
        Task<System.Text.Json.JsonElement> second = qmp.ExecuteAsync("cont");

        Assert.Equal("running", (await first).GetProperty("status").GetString());
        Assert.Equal("second failed", (await Assert.ThrowsAsync<QmpCommandException>(() => second)).Description);
    }
}
