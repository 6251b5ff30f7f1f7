using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Storage;
using SecureMigration.Text;
using SecureMigration.Tunnel;

namespace SecureMigration.Cli.Control;

/// <summary>
/// 'secmig migrate --agent SOCKET': asks the host's agent to migrate, prints the lines the agent's run prints (those 'secmig
/// migrate' prints), and ends with its outcome. Ctrl+C asks the agent to cancel, then follows the rollback to its end.
/// What comes back is the agent's lines, which carry QEMU's and the peer's text: only a socket served by root or this
/// user is talked to, each answer is bounded, and each line is escaped before a terminal sees it.
/// </summary>
internal static class AgentClient
{
    /// <summary>The largest answer read from the agent: a view of <see cref="OutgoingMigration.MaxLines"/> lines of
    /// <see cref="OutgoingMigration.MaxLineLength"/> characters, each escaped as JSON (six bytes a character at worst), fits.</summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>The longest line printed: the agent's own bound, with room for its note of what was cut.</summary>
    public const int MaxLineLength = OutgoingMigration.MaxLineLength + 64;

    /// <summary>The most lines printed for one migration: as many as the agent keeps of one (a migration prints a few dozen); an
    /// agent that sends more is followed to the outcome without printing the rest.</summary>
    public const int MaxLinesPrinted = OutgoingMigration.MaxLines;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<MigrateOutcome> MigrateAsync(string socket, MigrationRequest request, ConsoleStyle style,
        CancellationToken cancellationToken)
    {
        if (!File.Exists(socket))
        {
            throw new FileNotFoundException($"There is no agent control socket at '{socket}': start 'secmig agent' (its socket is " +
                $"WORK/{ControlSocket.DefaultName} unless --control says otherwise), or give its --control path.", socket);
        }

        using HttpClient client = Connect(socket);
        using HttpResponseMessage started = await SendAsync(socket, () => client.PostAsJsonAsync("/v1/migrations", request, Json,
            CancellationToken.None));
        if (!started.IsSuccessStatusCode)
        {
            throw new ArgumentException($"the agent refused: {UntrustedText.Bound(await ProblemAsync(started), 1000)}");
        }

        MigrationView view = (await started.Content.ReadFromJsonAsync<MigrationView>(Json, CancellationToken.None))!;
        bool cancelled = false;
        int printed = 0;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested && !cancelled)
            {
                cancelled = true;
                using HttpResponseMessage _ = await SendAsync(socket, () => client.DeleteAsync($"/v1/migrations/{view.Id}",
                    CancellationToken.None));
            }

            using HttpResponseMessage followed = await SendAsync(socket, () => client.GetAsync(
                $"/v1/migrations/{view.Id}?after={view.Next}&wait={(cancelled ? 1 : ControlEndpoints.MaxWait)}",
                cancelled ? CancellationToken.None : cancellationToken), cancellationToken);
            if (followed.StatusCode == HttpStatusCode.RequestTimeout)
            {
                continue; // Ctrl+C during the wait: cancel, then follow the rollback
            }

            followed.EnsureSuccessStatusCode();
            view = (await followed.Content.ReadFromJsonAsync<MigrationView>(Json, CancellationToken.None))!;
            foreach (string line in view.Lines)
            {
                if (printed < MaxLinesPrinted)
                {
                    style.Line(UntrustedText.Bound(line, MaxLineLength)); // QEMU's and the peer's text: one line, no escapes
                }
                else if (printed == MaxLinesPrinted)
                {
                    style.Line($"the agent sent more than {MaxLinesPrinted} lines for this migration; the rest are not shown");
                }

                printed++;
            }

            if (view.Outcome is { } outcome)
            {
                return outcome;
            }
        }
    }

    /// <summary>An HTTP client for the agent's control API on <paramref name="socket"/>: it talks only to a socket served by
    /// root or this user (the kernel's word, <c>SO_PEERCRED</c>) and reads answers of up to <see cref="MaxResponseBytes"/>.</summary>
    public static HttpClient Connect(string socket) => new(new SocketsHttpHandler
    {
        MaxResponseHeadersLength = 16,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
                if (OperatingSystem.IsLinux() && LocalPeerCredentials.TryGetUid(connection) is var uid &&
                    uid != 0 && uid != (int)Posix.EffectiveUserId())
                {
                    throw new UntrustedAgentException(socket, uid);
                }

                return new NetworkStream(connection, ownsSocket: true);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = new Uri("http://agent"), Timeout = TimeSpan.FromSeconds(ControlEndpoints.MaxWait + 30),
        MaxResponseContentBufferSize = MaxResponseBytes,
    };

    /// <summary>Sends a request; an agent that cannot be reached ends the command with one line naming the socket.</summary>
    private static async Task<HttpResponseMessage> SendAsync(string socket, Func<Task<HttpResponseMessage>> send,
        CancellationToken interrupted = default)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            return new HttpResponseMessage(HttpStatusCode.RequestTimeout);
        }
        catch (HttpRequestException e) when (e.InnerException is UntrustedAgentException untrusted)
        {
            throw untrusted;
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            throw new InvalidDataException($"the agent's control socket '{socket}' answered with more than {MaxResponseBytes} bytes " +
                "(or headers over 16 KiB), more than a secmig agent sends; check which process serves it.", e);
        }
        catch (HttpRequestException e)
        {
            throw new IOException($"cannot reach the agent's control socket '{socket}' ({e.Message}): is 'secmig agent' running " +
                "there, and is this its user (or root)?", e);
        }
    }

    private static async Task<string> ProblemAsync(HttpResponseMessage response)
    {
        try
        {
            using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return problem.RootElement.TryGetProperty("detail", out JsonElement detail) ? detail.GetString() ?? "" : problem.RootElement
                .ToString();
        }
        catch (JsonException)
        {
            return $"HTTP {(int)response.StatusCode}";
        }
    }
}
