using System.Text.Json;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

public sealed class QemuDriverTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task QueryAsync_QemuReportsRamFilesOutsideTheAllowedDirectories_TakesOnlyTheOneInsideAsResidue()
    {
        // Defense: a mem-path QEMU reports is residue only when its real path lies in an allowed memory directory.
        string allowed = Directory.CreateDirectory(_dir.File("ram")).FullName;
        string secret = _dir.File("secret.db");
        File.WriteAllBytes(secret, [1, 2, 3]);
        string ram = Path.Combine(allowed, "vm1.ram");
        File.WriteAllBytes(ram, new byte[4096]);
        Directory.CreateSymbolicLink(Path.Combine(allowed, "link"), _dir.Path);
        // What a guest that escaped into its QEMU answers: one honest RAM file and three ways out of the allowed directory.
        var memPaths = new Dictionary<string, string>
        {
            ["ram"] = ram,
            ["outside"] = secret,
            ["dotdot"] = Path.Combine(allowed, "..", "secret.db"),
            ["symlinked-parent"] = Path.Combine(allowed, "link", "secret.db"),
        };
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), connection => AnswerAsync(connection, memPaths));
        QemuDriverOptions options = Options(allowed, qemu);
        var log = new List<string>();
        await using var driver = new QemuDriver(options, new ListLoggerFactory(log));
        // The fake QEMU is this process (SO_PEERCRED names it): it maps the RAM file, as QEMU does.
        using MappedFile mapped = MappedFile.Map(ram);

        VmStatus status = await driver.QueryAsync("vm1");

        Assert.Equal([ram], status.Images);
        Assert.Equal($"{FileIdentity.Of(ram)} {ram}\n", File.ReadAllText(_dir.File("run/vm1.memory-files")));
        Assert.Equal(3, log.Count(line => line.Contains("outside the allowed memory directories", StringComparison.Ordinal)));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(secret));
    }

    [Fact]
    public async Task QueryAsync_QemuReportsARamFileItDoesNotMap_IsNotResidue()
    {
        // Defense: a guest that escaped into its QEMU names another VM's RAM file, in the allowed directory; its QEMU
        // process does not map that file, so it is not taken as residue (and never overwritten).
        string allowed = Directory.CreateDirectory(_dir.File("ram")).FullName;
        string otherVmsRam = Path.Combine(allowed, "vm2.ram");
        File.WriteAllBytes(otherVmsRam, [7, 7, 7]);
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), connection => AnswerAsync(connection,
            new() { ["ram"] = otherVmsRam }));
        QemuDriverOptions options = Options(allowed, qemu);
        var log = new List<string>();
        await using var driver = new QemuDriver(options, new ListLoggerFactory(log));

        VmStatus status = await driver.QueryAsync("vm1");

        Assert.Empty(status.Images);
        Assert.Contains(log, line => line.Contains("that its process does not map", StringComparison.Ordinal));
        Assert.False(File.Exists(_dir.File("run/vm1.memory-files")));
    }

    [Fact]
    public async Task QueryAsync_RamFileReplacedAfterQemuMappedIt_IsNotResidue()
    {
        // Defense: the RAM file's identity is recorded when QEMU maps it; a file renamed into its place later is not it.
        string allowed = Directory.CreateDirectory(_dir.File("ram")).FullName;
        string ram = Path.Combine(allowed, "vm1.ram");
        File.WriteAllBytes(ram, new byte[4096]);
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), connection => AnswerAsync(connection, new() { ["ram"] = ram }));
        QemuDriverOptions options = Options(allowed, qemu);
        var log = new List<string>();
        await using var driver = new QemuDriver(options, new ListLoggerFactory(log));
        using (MappedFile.Map(ram))
        {
            Assert.Equal([ram], (await driver.QueryAsync("vm1")).Images);
        }

        string precious = Path.Combine(allowed, "vm2.ram");
        File.WriteAllBytes(precious, [7, 7, 7]);
        File.Move(precious, ram, overwrite: true);

        VmStatus status = await driver.QueryAsync("vm1");

        Assert.Empty(status.Images);
        Assert.Contains(log, line => line.Contains("another file was put in its place", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryAsync_QemuExitsWhileItsRamFilesAreAsked_IsAbsentNotAFailure()
    {
        // A destination QEMU whose incoming stream broke exits on its own, possibly while the driver, connecting to
        // roll it back, asks for its RAM files: that QEMU is gone, which ends the rollback; it is not an error.
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), async connection =>
        {
            await connection.NegotiateAsync();
            await connection.ReceiveAsync();
        });
        var options = new QemuDriverOptions { RuntimeDirectory = _dir.File("run"), SettleTimeout = TimeSpan.FromMilliseconds(100) };
        options.Vms.Add(new QemuVm("vm1", qemu.EndPoint));
        await using var driver = new QemuDriver(options);

        VmStatus status = await driver.QueryAsync("vm1");

        Assert.Equal(VmRunState.Absent, status.State);
    }

    [Fact]
    public void Constructor_RelativeMemoryDirectory_IsRefusedWithItsValue()
    {
        var options = new QemuDriverOptions { RuntimeDirectory = _dir.File("run"), AllowedMemoryDirectories = { "ram" } };

        var refused = Assert.Throws<ArgumentException>(() => new QemuDriver(options));

        Assert.Contains("'ram'", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:4444")]
    [InlineData("tcp:qemu.example:4444")]
    public void Constructor_TcpMonitorWithoutOptIn_IsRefusedAndSaysHowToAllowIt(string monitor)
    {
        // Defense: QMP over TCP (unauthenticated) only with QemuDriverOptions.AllowTcpQmp.
        var options = new QemuDriverOptions { RuntimeDirectory = _dir.File("run") };
        options.Vms.Add(new QemuVm("vm1", QmpEndPoints.Parse(monitor)));

        var refused = Assert.Throws<ArgumentException>(() => new QemuDriver(options));

        Assert.Contains($"at {monitor}, a TCP address", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-tcp-qmp", refused.Message, StringComparison.Ordinal);
        options.AllowTcpQmp = true;
        options.Validate();
    }

    [Fact]
    public async Task KeepConnectedAsync_QemuListens_ConnectsAndLearnsItsRamFilesBeforeAnyMigrationAsks()
    {
        // Issue 19: an agent keeps its served VMs' monitors open, so a migration does not pay the connection and the
        // memory-backend discovery when it starts.
        string allowed = Directory.CreateDirectory(_dir.File("ram")).FullName;
        string ram = Path.Combine(allowed, "vm1.ram");
        File.WriteAllBytes(ram, new byte[4096]);
        var discovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), connection => AnswerAsync(connection, new() { ["ram"] = ram },
            discovered));
        QemuDriverOptions options = Options(allowed, qemu);
        await using var driver = new QemuDriver(options);
        using MappedFile mapped = MappedFile.Map(ram);
        using var stop = new CancellationTokenSource();

        Task keeping = driver.KeepConnectedAsync(TimeSpan.FromSeconds(1), stop.Token);
        await discovered.Task.WaitAsync(TimeSpan.FromMinutes(1));

        // The one connection the fake QEMU accepts is the keeper's: the driver answers on it. (Asked while the keeper runs: a
        // keeper stopped while it still learns the RAM files drops its connection, as it must.)
        Assert.Equal(VmRunState.Running, (await driver.QueryAsync("vm1")).State);
        await stop.CancelAsync();
        await keeping;
    }

    /// <summary>A query cancelled while the driver learns the VM's RAM files (a refused ticket stops its question) leaves no
    /// connection that does not know them: a later destroy or wipe would miss the VM's memory.</summary>
    [Fact]
    public async Task QueryAsync_CancelledWhileTheRamFilesAreLearnt_TheNextQueryLearnsThem()
    {
        string allowed = Directory.CreateDirectory(_dir.File("ram")).FullName;
        string ram = Path.Combine(allowed, "vm1.ram");
        File.WriteAllBytes(ram, new byte[4096]);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int connections = 0;
        await using var qemu = new FakeQmpServer(_dir.File("vm1.qmp"), async connection =>
        {
            if (Interlocked.Increment(ref connections) > 1)
            {
                await AnswerAsync(connection, new() { ["ram"] = ram });
                return;
            }

            await connection.NegotiateAsync();
            await connection.ReceiveAsync(); // the first question about the RAM files, never answered
            asked.TrySetResult();
            await AnswerRequestsAsync(connection, new() { ["ram"] = ram }); // a connection kept would answer from here on
        }, connections: 2);
        QemuDriverOptions options = Options(allowed, qemu);
        await using var driver = new QemuDriver(options);
        using MappedFile mapped = MappedFile.Map(ram);
        using var stop = new CancellationTokenSource();
        Task<VmStatus> first = driver.QueryAsync("vm1", stop.Token).AsTask();
        await asked.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        VmStatus status = await driver.QueryAsync("vm1");

        Assert.Equal([ram], status.Images);
        Assert.Equal(2, connections);
    }

    /// <summary>A driver's options for VM 'vm1' at <paramref name="qemu"/>'s monitor, with <paramref name="allowed"/> as its one
    /// memory directory.</summary>
    private QemuDriverOptions Options(string allowed, FakeQmpServer qemu)
    {
        var options = new QemuDriverOptions { RuntimeDirectory = _dir.File("run"), AllowedMemoryDirectories = { allowed } };
        options.Vms.Add(new QemuVm("vm1", qemu.EndPoint));
        return options;
    }

    /// <summary>Plays a running QEMU whose memory-backend-file objects report <paramref name="memPaths"/>; sets
    /// <paramref name="discovered"/> once it answered a <c>qom-get</c>.</summary>
    private static async Task AnswerAsync(FakeQmpConnection connection, Dictionary<string, string> memPaths,
        TaskCompletionSource? discovered = null)
    {
        await connection.NegotiateAsync();
        await AnswerRequestsAsync(connection, memPaths, discovered);
    }

    /// <summary>Answers a negotiated connection's requests as <see cref="AnswerAsync"/> does.</summary>
    private static async Task AnswerRequestsAsync(FakeQmpConnection connection, Dictionary<string, string> memPaths,
        TaskCompletionSource? discovered = null)
    {
        while (true)
        {
            string request = await connection.ReceiveAsync();
            using JsonDocument document = JsonDocument.Parse(request);
            JsonElement root = document.RootElement;
            string answer = root.GetProperty("execute").GetString() switch
            {
                "query-status" => """{"status": "running", "running": true}""",
                "qom-list" => JsonSerializer.Serialize(memPaths.Keys.Select(name => new Dictionary<string, string> { ["name"] = name,
                    ["type"] = "child<memory-backend-file>" })),
                "qom-get" => JsonSerializer.Serialize(memPaths[root.GetProperty("arguments").GetProperty("path")
                    .GetString()!["/objects/".Length..]]),
                _ => "{}",
            };
            await connection.SendAsync($$"""{"return": {{answer}}, "id": {{FakeQmpConnection.IdOf(request)}}}""");
            if (root.GetProperty("execute").GetString() == "qom-get")
            {
                discovered?.TrySetResult();
            }
        }
    }
}
