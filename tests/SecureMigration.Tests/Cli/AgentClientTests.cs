using System.Text.Json;
using SecureMigration.Cli.Control;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>
/// 'secmig migrate --agent SOCKET' against an agent that is not what it should be: lines with terminal escapes (QEMU's
/// and the peer's text), an answer without end, a socket another local user serves.
/// </summary>
public sealed class AgentClientTests : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly MigrationRequest Request = new("vm1", "127.0.0.1:4443", "dst.test", 0);
    private readonly TempDirectory _dir = new();

    private string Socket => _dir.File("control.sock");

    [Fact]
    public async Task MigrateAsync_AgentLinesWithTerminalEscapes_ArePrintedEscapedOnOneLineEach()
    {
        string hostile = "qemu vm1 status=failed \u001b]0;owned\u0007\u001b[2J\nresult vm1 Completed\u202e";
        await using var agent = new ScriptedHttpSocket(Socket, _ => (201, View([hostile], ended: true)));
        var output = new StringWriter();

        MigrateOutcome outcome = await AgentClient.MigrateAsync(Socket, Request, new ConsoleStyle(output, false, false),
            CancellationToken.None);

        Assert.Equal("RolledBack", outcome.Status);
        string printed = output.ToString();
        Assert.Equal(["qemu vm1 status=failed \\u001b]0;owned\\u0007\\u001b[2J\\nresult vm1 Completed\\u202e", ""],
            printed.Split(Environment.NewLine));
    }

    [Fact]
    public async Task MigrateAsync_AnswerLargerThanTheBound_IsRefusedWithOneLine()
    {
        string[] lines = [.. Enumerable.Repeat(new string('x', 4096), (AgentClient.MaxResponseBytes / 4096) + 16)];
        await using var agent = new ScriptedHttpSocket(Socket, _ => (201, View(lines, ended: true)));
        var output = new StringWriter();

        InvalidDataException refused = await Assert.ThrowsAsync<InvalidDataException>(() => AgentClient.MigrateAsync(Socket, Request,
            new ConsoleStyle(output, false, false), CancellationToken.None));

        Assert.Contains($"answered with more than {AgentClient.MaxResponseBytes} bytes", refused.Message, StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task MigrateAsync_AgentSendsLinesWithoutEnd_PrintsABoundedNumberAndFollowsToTheOutcome()
    {
        // A hostile or broken agent must not flood the caller's terminal or log: the lines printed are bounded, and the
        // outcome still ends the command.
        int answers = 0;
        string[] batch = [.. Enumerable.Range(0, 700).Select(i => $"line {i}")];
        await using var agent = new ScriptedHttpSocket(Socket, _ => Interlocked.Increment(ref answers) switch
        {
            1 => (201, View([], ended: false)),
            < 5 => (200, View(batch, ended: false)),
            _ => (200, View(batch, ended: true)),
        });
        var output = new StringWriter();

        MigrateOutcome outcome = await AgentClient.MigrateAsync(Socket, Request, new ConsoleStyle(output, false, false),
            CancellationToken.None);

        Assert.Equal("RolledBack", outcome.Status);
        string[] printed = output.ToString().TrimEnd().Split(Environment.NewLine);
        Assert.Equal(AgentClient.MaxLinesPrinted + 1, printed.Length);
        Assert.Equal($"the agent sent more than {AgentClient.MaxLinesPrinted} lines for this migration; the rest are not shown",
            printed[^1]);
    }

    /// <summary>Attack: another local user serves a socket where the agent's should be (a stale path, a writable
    /// directory); the client must not ask it anything nor print its answers.</summary>
    [RequiresRootFact]
    public async Task Migrate_SocketServedByAnotherLocalUser_IsRefusedWithExit3()
    {
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(_dir.File("other"));
        File.SetUnixFileMode(_dir.File("other"), (UnixFileMode)0b111_111_111);
        string socket = _dir.File("other/control.sock");
        await using ExternalProcess other = ExternalProcess.Start("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
            ExternalProgram.Require("socat"), "-d", "-d", "UNIX-LISTEN:" + socket, "EXEC:cat"]);
        await other.WaitForAsync("listening on");

        (int exit, string output) = await Secmig.RunAsync("migrate", "--agent", socket, "--vm", "vm1", "--to", "127.0.0.1:4443",
            "--peer-name", "dst.test");

        Assert.True(exit == 3, output);
        Assert.Contains($"the control socket '{socket}' is served by local user 65534, neither root nor this user", output,
            StringComparison.Ordinal);
        Assert.Single(output.Trim().Split('\n'));
    }

    public void Dispose() => _dir.Dispose();

    private static string View(IReadOnlyList<string> lines, bool ended) => JsonSerializer.Serialize(new MigrationView(Guid.NewGuid(),
        Request, DateTimeOffset.UnixEpoch, ended ? "RolledBack" : "Running", lines, 0, lines.Count,
        ended ? new MigrateOutcome("vm1", Guid.NewGuid(), "RolledBack", "test", 0, 0, 1, null) : null, null, null), Json);
}
