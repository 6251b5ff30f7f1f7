using System.Net.Sockets;
using SecureMigration.Fuzz.Peer;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Fuzz.Targets;

/// <summary>
/// QMP replies and events as <see cref="QmpClient"/> reads them from QEMU's monitor socket. Input: what QEMU says, in
/// up to four segments separated by NUL bytes: the first at once (the greeting), the next one after each line the
/// client sends (qmp_capabilities, then query-status and query-migrate, sent together); then QEMU hangs up. The
/// client also watches every event. Invariants: only <see cref="QmpException"/> and its kinds; every event has a
/// name; every wait ends (a greeting or an answer QEMU never finishes waits 100 ms here); allocation over the whole
/// process (the client reads on a thread of its own) ≤ 4 MiB + 64 B per input byte.
/// </summary>
internal sealed class QmpTarget : FuzzTarget
{
    private const int Segments = 4;
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(100);

    public override string Name => "qmp";

    public override void Run(byte[] input)
    {
        string path = ScratchFolder.Fresh("qmp.sock");
        var endPoint = new UnixDomainSocketEndPoint(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endPoint);
        listener.Listen(1);
        var budget = AllocationBudget.StartProcessWide(input.Length, fixedBytes: 4 << 20, perInputByte: 64);
        Task qemu = Task.Run(() => Serve(listener, Split(input)));
        try
        {
            Client(endPoint).GetAwaiter().GetResult();
        }
        catch (QmpException)
        {
            // The documented failures: QmpConnectionException, QmpTimeoutException (and QmpCommandException).
        }

        qemu.GetAwaiter().GetResult();
        budget.Check("Reading QMP");
    }

    private static async Task Client(UnixDomainSocketEndPoint endPoint)
    {
        var options = new QmpClientOptions { ConnectTimeout = Wait, CommandTimeout = Wait, MaxMessageBytes = 4096 };
        QmpClient client = await QmpClient.ConnectAsync(endPoint, options).ConfigureAwait(false);
        try
        {
            using QmpEventWatcher watcher = client.WatchEvents();
            await Task.WhenAll(Execute(client, "query-status"), Execute(client, "query-migrate")).ConfigureAwait(false);
            while (true)
            {
                QmpEvent qmpEvent = await watcher.ReadAsync(Wait).ConfigureAwait(false);
                InvariantViolationException.Check(!string.IsNullOrEmpty(qmpEvent.Name), "an event without a name was delivered");
            }
        }
        finally
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task Execute(QmpClient client, string command)
    {
        try
        {
            await client.ExecuteAsync(command).ConfigureAwait(false);
        }
        catch (QmpException)
        {
            // QEMU refused it, did not answer, or hung up: each is reported typed.
        }
    }

    /// <summary>The fake QEMU: a segment at connection, one after each line from the client, then it hangs up.</summary>
    private static void Serve(Socket listener, List<byte[]> segments)
    {
        using Socket connection = listener.Accept();
        byte[] received = new byte[4096];
        try
        {
            connection.Send(segments[0]);
            for (int next = 1; next < segments.Count; next++)
            {
                int lines = 0;
                while (lines == 0)
                {
                    int count = connection.Receive(received);
                    if (count == 0)
                    {
                        return;
                    }

                    lines = received.AsSpan(0, count).Count((byte)'\n');
                }

                connection.Send(segments[next]);
            }

            connection.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The client hung up first.
        }
    }

    private static List<byte[]> Split(byte[] input)
    {
        var segments = new List<byte[]>();
        ReadOnlySpan<byte> rest = input;
        while (segments.Count < Segments - 1 && rest.IndexOf((byte)0) is var at and >= 0)
        {
            segments.Add(rest[..at].ToArray());
            rest = rest[(at + 1)..];
        }

        segments.Add(rest.ToArray());
        return segments;
    }

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // What QEMU 8 says, as the QMP tests capture it.
        byte[] greeting =
            """{"QMP": {"version": {"qemu": {"micro": 2, "minor": 2, "major": 8}, "package": ""}, "capabilities": ["oob"]}}"""u8
                .ToArray();
        yield return ("session", [.. greeting, (byte)'\n', 0, .. """{"return": {}, "id": 1}"""u8, (byte)'\n', 0,
            .. """{"return": {"status": "running", "singlestep": false, "running": true}, "id": 2}"""u8, (byte)'\n', 0,
            .. """{"timestamp": {"seconds": 1790000000, "microseconds": 123456}, "event": "MIGRATION", "data": {"status": "active"}}"""u8,
            (byte)'\n',
            .. """{"error": {"class": "GenericError", "desc": "No migration in progress"}, "id": 3}"""u8, (byte)'\n']);
        yield return ("refused-capabilities",
            [.. greeting, (byte)'\n', 0, .. """{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 1}"""u8, (byte)'\n']);
    }
}
