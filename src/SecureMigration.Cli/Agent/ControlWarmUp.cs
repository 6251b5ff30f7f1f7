using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using SecureMigration.Text;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// Asks the control API's routes once, over the agent's own socket, before the agent announces it and tells systemd it is
/// ready. A route's first answer otherwise pays for compiling what the tool's ReadyToRun code leaves out (generic code over
/// the API's types, the JSON writers, routing's tables): the migrations' list took 20–30 ms alone and 65–120 ms during the
/// first burst of requests after start (docs/benchmarks.md, issue 19). Only requests that change nothing are sent: the reads,
/// an unknown migration, and a migration request the agent refuses (no VM); not the VMs' list (it reads the registry for
/// every served VM) nor the OpenAPI document. The requests are written by hand (HTTP/1.1, one per connection, host
/// <c>warm-up</c> in the server's log): an HTTP client would cost the agent its own compilation, for nothing else uses one.
/// </summary>
internal static class ControlWarmUp
{
    /// <summary>The requests: "METHOD PATH", the JSON body or <see langword="null"/>, and the status the API answers. The first
    /// goes alone (it builds what every route shares), the others at once.</summary>
    internal static readonly (string Request, string? Body, int Status)[] Requests =
    [
        ("GET /v1/health", null, 200),
        ("GET /v1/migrations", null, 200),
        ($"GET /v1/migrations/{Guid.Empty}?after=0&wait=0", null, 404),
        ($"DELETE /v1/migrations/{Guid.Empty}", null, 404),
        ("POST /v1/migrations", """{"vm":"","to":"","peerName":""}""", 400),
        ("GET /metrics", null, 200),
    ];

    /// <summary>The longest the warm-up may take (the API answers each request in milliseconds once warm).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The most of an answer read (its status line is checked; the rest is read so the route finishes).</summary>
    private const int MaxAnswerBytes = 1024 * 1024;

    /// <summary>The most read of an answer's first line.</summary>
    private const int MaxStatusLine = 256;

    /// <summary>Sends the requests. An answer that does not come or is not the expected one is logged as a warning and ends
    /// the warm-up: the agent still starts, and answers as it would have without it. A stop (<paramref name="cancellationToken"/>)
    /// ends it quietly.</summary>
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // the agent is stopping
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            logger.LogWarning("The control API did not answer its own requests at start as expected ({Error}); it still serves.",
                e is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : e.Message);
            return;
        }

        logger.LogInformation("Control API warmed up in {Milliseconds:0} ms.", time.GetElapsedTime(started).TotalMilliseconds);
    }

    private static async Task AskAsync(string controlSocket, (string Request, string? Body, int Status) ask,
        CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(controlSocket), cancellationToken).ConfigureAwait(false);
        byte[] body = Encoding.UTF8.GetBytes(ask.Body ?? "");
        string head = $"{ask.Request} HTTP/1.1\r\nHost: warm-up\r\nConnection: close\r\n" +
            (ask.Body is null ? "" : $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n") + "\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(body, cancellationToken).ConfigureAwait(false);
        byte[] answer = new byte[16 * 1024];
        int received = 0;
        for (int read; received < MaxStatusLine && answer.AsSpan(0, received).IndexOf("\r\n"u8) < 0; received += read)
        {
            if ((read = await socket.ReceiveAsync(answer.AsMemory(received), cancellationToken).ConfigureAwait(false)) == 0)
            {
                break;
            }
        }

        string status = Encoding.ASCII.GetString(answer, 0, Math.Min(received, MaxStatusLine)).Split("\r\n", 2)[0];
        if (status != $"HTTP/1.1 {ask.Status}" && !status.StartsWith($"HTTP/1.1 {ask.Status} ", StringComparison.Ordinal))
        {
            throw new IOException($"{ask.Request} answered '{UntrustedText.Bound(status, 100)}', not {ask.Status}");
        }

        for (int read; received < MaxAnswerBytes; received += read)
        {
            if ((read = await socket.ReceiveAsync(answer, cancellationToken).ConfigureAwait(false)) == 0)
            {
                break;
            }
        }
    }
}
