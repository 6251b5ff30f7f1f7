using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// Asks each of the control API's routes once, over the agent's own socket, before the agent says it is ready. A route's first
/// answer otherwise pays for compiling what the tool's ReadyToRun code leaves out (generic code over the API's types, the
/// JSON writers, routing's tables): the migrations' list took 20–40 ms alone and 65–100 ms during the first burst of
/// requests after start (docs/benchmarks.md, issue 19). Only requests that change nothing are sent: the reads, an unknown
/// migration, and a migration request the agent refuses (no VM). The requests are written by hand (HTTP/1.1, one per
/// connection): an HTTP client would cost the agent its own compilation, for nothing else uses one.
/// </summary>
internal static class ControlWarmUp
{
    /// <summary>The requests, each "METHOD PATH" and its JSON body or <see langword="null"/>; the first goes alone (it builds
    /// what every route shares), the others at once.</summary>
    internal static readonly (string Request, string? Body)[] Requests =
    [
        ("GET /v1/health", null),
        ("GET /v1/migrations", null),
        ($"GET /v1/migrations/{Guid.Empty}?after=0&wait=0", null),
        ($"DELETE /v1/migrations/{Guid.Empty}", null),
        ("POST /v1/migrations", """{"vm":"","to":"","peerName":""}"""),
        ("GET /metrics", null),
    ];

    /// <summary>The longest the warm-up may take (the API answers each request in milliseconds once warm).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The most of an answer read (the status line is all that matters; the rest is read so the route finishes).</summary>
    private const int MaxAnswerBytes = 1024 * 1024;

    /// <summary>Sends the requests; a failure is logged as a warning and ends the warm-up (the agent still starts: it answers as
    /// it would have without it).</summary>
    public static async Task RunAsync(string controlSocket, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(Timeout, time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await AskAsync(controlSocket, Requests[0], timeout.Token).ConfigureAwait(false);
            await Task.WhenAll(Requests.Skip(1).Select(request => AskAsync(controlSocket, request, timeout.Token))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException &&
            !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The control API did not answer its own requests at start ({Error}); it still serves.", e.Message);
            return;
        }

        logger.LogInformation("Control API warmed up in {Milliseconds:0} ms.", time.GetElapsedTime(started).TotalMilliseconds);
    }

    private static async Task AskAsync(string controlSocket, (string Request, string? Body) ask, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(controlSocket), cancellationToken).ConfigureAwait(false);
        byte[] body = Encoding.UTF8.GetBytes(ask.Body ?? "");
        string head = $"{ask.Request} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n" +
            (ask.Body is null ? "" : $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n") + "\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(body, cancellationToken).ConfigureAwait(false);
        byte[] answer = new byte[16 * 1024];
        for (int total = 0, read; total < MaxAnswerBytes; total += read)
        {
            if ((read = await socket.ReceiveAsync(answer, cancellationToken).ConfigureAwait(false)) == 0)
            {
                break;
            }
        }
    }
}
