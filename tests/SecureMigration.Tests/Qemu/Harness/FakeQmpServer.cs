using System.Net.Sockets;
using System.Text;

namespace SecureMigration.Tests.Qemu.Harness;

/// <summary>A unix-socket server that plays a scripted (mis)behaving QMP monitor for one connection, or for the first
/// <c>connections</c>, each served while the earlier ones still are.</summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Task _serving;

    public FakeQmpServer(string path, Func<FakeQmpConnection, Task> script, int connections = 1)
    {
        EndPoint = new UnixDomainSocketEndPoint(path);
        _listener.Bind(EndPoint);
        _listener.Listen(1);
        _serving = ServeAsync(script, connections);
    }

    public UnixDomainSocketEndPoint EndPoint { get; }

    public const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 3, "minor": 2, "major": 9}, "package": ""}, "capabilities": ["oob"]}}""";

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
        }
    }

    private async Task ServeAsync(Func<FakeQmpConnection, Task> script, int connections)
    {
        var served = new List<Task>();
        for (int i = 0; i < connections; i++)
        {
            served.Add(ServeOneAsync(await _listener.AcceptAsync(), script));
        }

        await Task.WhenAll(served);
    }

    private static async Task ServeOneAsync(Socket socket, Func<FakeQmpConnection, Task> script)
    {
        using (socket)
        {
            await using var stream = new NetworkStream(socket);
            await script(new FakeQmpConnection(stream));
        }
    }
}

/// <summary>One connection of <see cref="FakeQmpServer"/>.</summary>
internal sealed class FakeQmpConnection(NetworkStream stream)
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8, leaveOpen: true);

    public Task SendAsync(string line) => stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n")).AsTask();

    public Task SendRawAsync(byte[] bytes) => stream.WriteAsync(bytes).AsTask();

    public async Task<string> ReceiveAsync() => await _reader.ReadLineAsync() ?? throw new EndOfStreamException("The client closed the " +
        "connection.");

    /// <summary>Greets and accepts capabilities negotiation, as QEMU does.</summary>
    public async Task NegotiateAsync()
    {
        await SendAsync(FakeQmpServer.Greeting);
        string request = await ReceiveAsync();
        Assert.Contains("qmp_capabilities", request);
        await SendAsync($$"""{"return": {}, "id": {{IdOf(request)}}}""");
    }

    public static long IdOf(string request) => System.Text.Json.JsonDocument.Parse(request).RootElement.GetProperty("id").GetInt64();
}
