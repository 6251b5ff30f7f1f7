using System.Net.Sockets;
using System.Text;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// An HTTP/1.1 server on a unix socket that answers each request with what <c>answer</c> returns for its request line
/// (<c>POST /v1/migrations HTTP/1.1</c>), then closes the connection: an agent that says what a test wants.
/// </summary>
public sealed class ScriptedHttpSocket : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Func<string, (int Status, string Body)> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public ScriptedHttpSocket(string path, Func<string, (int Status, string Body)> answer)
    {
        _answer = answer;
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        _serving = ServeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using Socket connection = await _listener.AcceptAsync(_stop.Token);
            await using var stream = new NetworkStream(connection);
            string head = await ReadHeadAsync(stream);
            (int status, string body) = _answer(head[..head.IndexOf('\r', StringComparison.Ordinal)]);
            byte[] content = Encoding.UTF8.GetBytes(body);
            byte[] header = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n" +
                $"Content-Length: {content.Length}\r\nConnection: close\r\n\r\n");
            try
            {
                await stream.WriteAsync(header, _stop.Token);
                await stream.WriteAsync(content, _stop.Token);
            }
            catch (IOException)
            {
                // The client stopped reading (an answer it found too large).
            }
        }
    }

    /// <summary>Reads the request up to its blank line, then the body its Content-Length announces.</summary>
    private async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) &&
            await stream.ReadAsync(one, _stop.Token) == 1)
        {
            head.Append((char)one[0]);
        }

        string text = head.ToString();
        int at = text.IndexOf("Content-Length: ", StringComparison.OrdinalIgnoreCase);
        if (at >= 0)
        {
            int length = int.Parse(text[(at + 16)..text.IndexOf('\r', at)], System.Globalization.CultureInfo.InvariantCulture);
            byte[] body = new byte[length];
            await stream.ReadExactlyAsync(body, _stop.Token);
        }

        return text;
    }
}
