using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SecureMigration.Cli.Control;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>'secmig agent' as a per-host service (issue 19): its control API on a unix socket, and systemd's notifications.</summary>
public sealed class AgentControlTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public AgentControlTests()
    {
        Secmig.RunAsync("pki", "init", "--out", _dir.File("ca")).GetAwaiter().GetResult();
        Secmig.RunAsync("pki", "issue", "--ca", _dir.File("ca"), "--name", "dst.test", "--out", _dir.File("dst")).GetAwaiter().GetResult();
    }

    private string Socket => _dir.File("work/control.sock");

    [Fact]
    public async Task Agent_ServesHealthVmsMetricsAndOpenApi_OnASocketOnlyItsUserMayOpen()
    {
        await using ExternalProcess agent = StartAgent();
        await agent.WaitForAsync("control " + Socket);
        using HttpClient client = AgentClient.Connect(Socket);

        using JsonDocument health = JsonDocument.Parse(await client.GetStringAsync("/v1/health"));
        using JsonDocument vms = JsonDocument.Parse(await client.GetStringAsync("/v1/vms"));
        using JsonDocument migrations = JsonDocument.Parse(await client.GetStringAsync("/v1/migrations"));
        string metrics = await client.GetStringAsync("/metrics");
        using JsonDocument openApi = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));

        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal("dst.test", health.RootElement.GetProperty("host").GetString());
        Assert.Equal(["vm1", "vm2"], vms.RootElement.EnumerateArray().Select(vm => vm.GetProperty("id").GetString()));
        Assert.Contains("securemigration_", metrics, StringComparison.Ordinal);
        Assert.Equal(0, migrations.RootElement.GetArrayLength()); // the warm-up's requests (ControlWarmUp) changed nothing
        Assert.DoesNotContain("did not answer its own requests", agent.Output, StringComparison.Ordinal);
        JsonElement paths = openApi.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/health", out _) && paths.TryGetProperty("/v1/vms", out _), paths.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Socket));

        await agent.SignalAsync("TERM");
        Assert.Equal(0, await agent.WaitForExitAsync());
        Assert.False(File.Exists(Socket), "the agent removes its socket when it stops");
    }

    /// <summary>Defense (issue 19, the first burst after start): the agent asks its API's routes once (ControlWarmUp) as it starts
    /// (before it announces its socket, by the code's order), so the first callers do not wait while each route's code is
    /// compiled; every answer was the expected one.</summary>
    [Fact]
    public async Task Agent_WarmsItsApiAsItStarts()
    {
        await using ExternalProcess agent = Secmig.Start([.. AgentArguments(), "--verbose"]);
        await agent.WaitForAsync("control " + Socket);

        // The log (standard error) and the announcement (standard output) are two pipes: their order here is not the agent's.
        await agent.WaitForAsync("Control API warmed up in");
    }

    /// <summary>The routes' binding, as the Request Delegate Generator compiles it with the tool: bad query values and bodies
    /// are refused before any handler runs, and change nothing; an empty 'after' or 'wait' counts as not given.</summary>
    [Fact]
    public async Task Api_BadQueryValuesAndBodies_AreRefusedBeforeAnyHandler()
    {
        await using ExternalProcess agent = StartAgent();
        await agent.WaitForAsync("control " + Socket);
        using HttpClient client = AgentClient.Connect(Socket);
        string unknown = $"/v1/migrations/{Guid.NewGuid()}";

        async Task<HttpStatusCode> StatusAsync(Task<HttpResponseMessage> asking)
        {
            using HttpResponseMessage answer = await asking;
            return answer.StatusCode;
        }

        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(client.GetAsync(unknown + "?after=abc")));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(client.GetAsync(unknown + "?wait=soon")));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client.GetAsync(unknown + "?after=&wait=")));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(client.GetAsync("/v1/migrations/not-a-guid")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await StatusAsync(client.PostAsync("/v1/migrations",
            new StringContent("""{"vm":"vm1"}""", Encoding.UTF8, "text/plain"))));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(client.PostAsync("/v1/migrations",
            new StringContent("{not json", Encoding.UTF8, "application/json"))));
        using JsonDocument migrations = JsonDocument.Parse(await client.GetStringAsync("/v1/migrations"));
        Assert.Equal(0, migrations.RootElement.GetArrayLength());
    }

    /// <summary>The OpenAPI document published in docs/api/ is the one the agent serves (regenerate it from the file this test
    /// writes when the API changes).</summary>
    [Fact]
    public async Task OpenApiDocument_PublishedInDocs_IsTheOneTheAgentServes()
    {
        await using ExternalProcess agent = StartAgent();
        await agent.WaitForAsync("control " + Socket);
        using HttpClient client = AgentClient.Connect(Socket);
        System.Text.Json.Nodes.JsonNode served = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        served.AsObject().Remove("servers"); // the address the client used, not part of the API
        string current = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true }).ReplaceLineEndings("\n") + "\n";
        string published = Path.Combine(Repository.Root, "docs", "api", "agent-openapi.json");
        string fresh = Path.Combine(Path.GetTempPath(), "secmig-agent-openapi.json");
        File.WriteAllText(fresh, current);

        Assert.True(File.Exists(published) && File.ReadAllText(published) == current,
            $"docs/api/agent-openapi.json is not the document the agent serves; copy {fresh} there.");
    }

    /// <summary>
    /// Defense: even on a socket whose mode lets everyone connect (an operator's chmod), another local user is closed on
    /// before a byte is read: the kernel names the peer (SO_PEERCRED), and only root and the agent's user pass.
    /// </summary>
    [RequiresRootFact]
    public async Task ControlSocket_AnotherLocalUser_IsRefusedByTheKernelsWord()
    {
        await using ExternalProcess agent = StartAgent();
        await agent.WaitForAsync("control " + Socket);
        File.SetUnixFileMode(Socket, (UnixFileMode)0b110_110_110);
        File.SetUnixFileMode(_dir.File("work"), (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);

        (_, string output) = await ProcessRunner.RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
            $"printf 'GET /v1/health HTTP/1.0\\r\\n\\r\\n' | {ExternalProgram.Require("socat")} -t5 - UNIX-CONNECT:{Socket}"],
            TimeSpan.FromSeconds(30));

        await agent.WaitForAsync("Control connection refused: local user 65534 is neither root nor the agent's user");
        Assert.DoesNotContain("dst.test", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlSocket_PathHoldingASymbolicLink_IsRefusedAndItsTargetKept()
    {
        Directory.CreateDirectory(_dir.File("work"));
        File.WriteAllText(_dir.File("precious"), "keep me");
        File.CreateSymbolicLink(Socket, _dir.File("precious"));

        (int exit, string output) = await Secmig.RunAsync([.. AgentArguments()]);

        Assert.True(exit == 2, output);
        Assert.Contains("exists and is not a socket", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(_dir.File("precious")));
        Assert.NotNull(new FileInfo(Socket).LinkTarget);
    }

    /// <summary>Attack: in a directory others may write, a local user swaps the bound socket for a symbolic link before the
    /// agent's chmod (which follows it), or serves a socket of their own there; such a directory is refused before binding.</summary>
    [Fact]
    public async Task ControlSocket_InADirectoryOthersMayWrite_IsRefusedBeforeBinding()
    {
        string open = _dir.File("open");
        Directory.CreateDirectory(open);
        File.SetUnixFileMode(open, (UnixFileMode)0b111_111_111);
        string socket = Path.Combine(open, "control.sock");

        await using ExternalProcess agent = Secmig.Start([.. AgentArguments(control: socket)]);
        string output = await agent.WaitUntilAsync(o => o.Contains("secmig: ", StringComparison.Ordinal) ||
            o.Contains("control ", StringComparison.Ordinal), "a refusal or its control line");

        Assert.DoesNotContain("control " + socket, output, StringComparison.Ordinal);
        Assert.Equal(2, await agent.WaitForExitAsync());
        Assert.Contains($"would be in '{open}', which is owned by user", output, StringComparison.Ordinal);
        Assert.Contains("with mode 0777: it must be owned by root or this user", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.False(File.Exists(socket), "nothing was bound");
    }

    /// <summary>Attack: the socket's own directory is the agent's, but a directory above it is writable by others (and not sticky
    /// as /tmp is): a local user renames the agent's directory aside and puts one of their own in its place. Refused before
    /// binding, naming the ancestor.</summary>
    [Fact]
    public async Task ControlSocket_UnderAnAncestorOthersMayWrite_IsRefusedBeforeBinding()
    {
        string open = _dir.File("open-above");
        string own = Path.Combine(open, "agent");
        Directory.CreateDirectory(own);
        File.SetUnixFileMode(own, (UnixFileMode)0b111_000_000);
        File.SetUnixFileMode(open, (UnixFileMode)0b111_111_111);
        string socket = Path.Combine(own, "control.sock");

        await using ExternalProcess agent = Secmig.Start([.. AgentArguments(control: socket)]);
        string output = await agent.WaitUntilAsync(o => o.Contains("secmig: ", StringComparison.Ordinal) ||
            o.Contains("control ", StringComparison.Ordinal), "a refusal or its control line");

        Assert.Equal(2, await agent.WaitForExitAsync());
        Assert.Contains($"would be in '{open}', which is owned by user", output, StringComparison.Ordinal);
        Assert.False(File.Exists(socket), "nothing was bound");
    }

    /// <summary>Attack: the path passes through a symbolic link (in a directory the attacker may write) that points at a safe
    /// directory while the agent checks and elsewhere when it binds and chmods. A path through a link is refused before binding.
    /// </summary>
    [Fact]
    public async Task ControlSocket_ThroughASymbolicLink_IsRefusedBeforeBinding()
    {
        string real = _dir.File("real");
        Directory.CreateDirectory(real);
        File.SetUnixFileMode(real, (UnixFileMode)0b111_000_000);
        string link = _dir.File("link");
        Directory.CreateSymbolicLink(link, real);
        string socket = Path.Combine(link, "control.sock");

        await using ExternalProcess agent = Secmig.Start([.. AgentArguments(control: socket)]);
        string output = await agent.WaitUntilAsync(o => o.Contains("secmig: ", StringComparison.Ordinal) ||
            o.Contains("control ", StringComparison.Ordinal), "a refusal or its control line");

        Assert.Equal(2, await agent.WaitForExitAsync());
        Assert.Contains($"which is reached through a symbolic link (it is '{real}')", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(real, "control.sock")), "nothing was bound");
    }

    [Fact]
    public async Task ControlSocket_StaleFromAnAgentThatDied_IsReplaced_AndOneServedByALiveAgentIsNot()
    {
        await using (ExternalProcess killed = StartAgent())
        {
            await killed.WaitForAsync("control " + Socket);
            await killed.KillAsync(); // SIGKILL: its socket stays behind, with nobody listening
        }

        Assert.True(File.Exists(Socket));
        await using ExternalProcess agent = StartAgent();
        await agent.WaitForAsync("control " + Socket);
        (int exit, string output) = await Secmig.RunAsync([.. AgentArguments(work: "work2", control: Socket)]);

        Assert.True(exit == 2, output);
        Assert.Contains("Another process serves the control socket", output, StringComparison.Ordinal);
        using HttpClient client = AgentClient.Connect(Socket);
        Assert.Contains("\"status\":\"ok\"", await client.GetStringAsync("/v1/health"), StringComparison.Ordinal);
    }

    /// <summary>Under systemd (<c>Type=notify</c>, <c>WatchdogSec</c>): ready once it listens, keep-alives while its loop runs,
    /// stopping when told to stop.</summary>
    [Fact]
    public async Task Agent_UnderSystemd_NotifiesReady_FeedsTheWatchdog_AndSaysWhenItStops()
    {
        string notify = _dir.File("notify");
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint(notify));

        await using ExternalProcess agent = ExternalProcess.Start("env", ["NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=200000", "dotnet",
            Secmig.Dll, .. AgentArguments()]);

        Assert.StartsWith("READY=1\nSTATUS=listening ", await ReceiveAsync(systemd), StringComparison.Ordinal);
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(systemd));
        await agent.SignalAsync("TERM");
        string message;
        while ((message = await ReceiveAsync(systemd)) == "WATCHDOG=1")
        {
            // keep-alives sent before the signal arrived
        }

        Assert.Equal("STOPPING=1", message);
        Assert.Equal(0, await agent.WaitForExitAsync());
    }

    public void Dispose() => _dir.Dispose();

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        byte[] buffer = new byte[4096];
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        int length = await socket.ReceiveAsync(buffer, SocketFlags.None, patience.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private ExternalProcess StartAgent() => Secmig.Start([.. AgentArguments()]);

    private IEnumerable<string> AgentArguments(string work = "work", string? control = null) =>
    [
        "agent", "--listen", "127.0.0.1:0", "--vm", "vm1=/run/none-1.qmp", "--vm", "vm2=/run/none-2.qmp", "--work", _dir.File(work),
        "--registry", _dir.File("registry"), "--cert", _dir.File("dst/cert.pem"), "--key", _dir.File("dst/key.pem"), "--ca",
        _dir.File("ca/ca.pem"), "--allow-peer", "src.test", .. control is null ? Array.Empty<string>() : ["--control", control],
    ];
}
