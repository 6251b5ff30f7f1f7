using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Transport;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// A peer with valid credentials that speaks the real commit protocol over a real channel, and misbehaves on purpose: it
/// cuts its frames into records at chosen bytes (one record per piece, several frames in one), sends any frame with any
/// length, replays its own records, and closes or drops the channel when it likes.
/// </summary>
internal sealed class AdversaryPeer : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly StreamDuplexPipe _socket;
    private readonly RecordingTransport _transport;
    private readonly MigrationWire _wire;

    private AdversaryPeer(StreamDuplexPipe socket, RecordingTransport transport, SecureChannel channel)
    {
        _socket = socket;
        _transport = transport;
        Channel = channel;
        _wire = new MigrationWire(channel, Patience, TimeProvider.System);
    }

    public SecureChannel Channel { get; }

    /// <summary>Connects as the source named in <paramref name="ticket"/>.</summary>
    public static async Task<AdversaryPeer> ConnectAsync(EndPoint destination, SecureChannelFactory credentials, MigrationTicket ticket)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(destination);
        return await ConnectAsync(socket, credentials, ticket);
    }

    /// <summary>Runs the handshake, as the source named in <paramref name="ticket"/>, on a connection opened earlier.</summary>
    public static async Task<AdversaryPeer> ConnectAsync(Socket connected, SecureChannelFactory credentials, MigrationTicket ticket)
    {
        StreamDuplexPipe pipe = StreamDuplexPipe.Create(connected);
        var transport = new RecordingTransport(pipe);
        return new AdversaryPeer(pipe, transport, await credentials.ConnectAsync(transport, ticket));
    }

    /// <summary>Answers a source's connection as its destination.</summary>
    public static async Task<AdversaryPeer> AcceptAsync(Socket accepted, SecureChannelFactory credentials)
    {
        StreamDuplexPipe pipe = StreamDuplexPipe.Create(accepted);
        var transport = new RecordingTransport(pipe);
        return new AdversaryPeer(pipe, transport, await credentials.AcceptAsync(transport));
    }

    public static byte[] Header(FrameType type, uint length)
    {
        byte[] header = new byte[5];
        header[0] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(1), length);
        return header;
    }

    public static byte[] Frame(FrameType type, ReadOnlySpan<byte> payload = default) => [.. Header(type, (uint)payload.Length), .. payload];

    public static byte[] EndOfStream(ReadOnlySpan<byte> stream)
    {
        byte[] payload = new byte[sizeof(ulong) + MigrationWire.DigestLength];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, (ulong)stream.Length);
        XxHash128.Hash(stream).CopyTo(payload, sizeof(ulong));
        return Frame(FrameType.EndOfStream, payload);
    }

    /// <summary>Sends <paramref name="bytes"/> as one record per piece between the <paramref name="recordCuts"/>.</summary>
    public async Task SendAsync(byte[] bytes, params int[] recordCuts)
    {
        int from = 0;
        foreach (int cut in recordCuts.Append(bytes.Length))
        {
            await Channel.Output.WriteAsync(bytes.AsMemory(from, cut - from));
            from = cut;
        }
    }

    public Task SendFrameAsync(FrameType type, ReadOnlySpan<byte> payload = default) => SendAsync(Frame(type, payload));

    public Task AbortAsync(string reason) => SendFrameAsync(FrameType.Abort, System.Text.Encoding.UTF8.GetBytes(reason));

    /// <summary>
    /// Sends <paramref name="stream"/> (a real hypervisor's migration stream) in data frames of <paramref name="frameBytes"/>
    /// and its end, every frame's header cut at <paramref name="headerCut"/>: each record ends inside one header and begins
    /// inside the previous one, so records split every frame and merge neighbours. Returns the bytes of the stream.
    /// </summary>
    public async Task<byte[]> SendStreamAsync(Stream stream, int frameBytes, int headerCut)
    {
        using var content = new MemoryStream();
        await stream.CopyToAsync(content);
        byte[] bytes = content.ToArray();
        var frames = new List<byte>();
        var cuts = new List<int>();
        for (int at = 0; at < bytes.Length; at += frameBytes)
        {
            cuts.Add(frames.Count + headerCut);
            frames.AddRange(Frame(FrameType.Data, bytes.AsSpan(at, Math.Min(frameBytes, bytes.Length - at))));
        }

        cuts.Add(frames.Count + headerCut);
        frames.AddRange(EndOfStream(bytes));
        await SendAsync([.. frames], [.. cuts]);
        return bytes;
    }

    public Task ReplayLastRecordAsync() => _transport.ReplayLastRecordAsync();

    public async Task<byte[]> ExpectAsync(FrameType type) => await _wire.ReceiveAsync(type, Patience, CancellationToken.None);

    /// <summary>Reads the next frame, which must be the peer's abort, and returns the reason it gave.</summary>
    public async Task<string> HearAbortAsync()
    {
        MigrationAbortedException heard = await Assert.ThrowsAsync<MigrationAbortedException>(() => ExpectAsync(FrameType.Abort));
        Assert.True(heard.ByPeer, $"the peer did not say why it stopped: {heard.Reason}");
        return heard.Reason;
    }

    public async Task<ReceivedStream> ReceiveStreamAsync() =>
        await _wire.ReceiveStreamAsync(Stream.Null, new XxHash128(), null, CancellationToken.None);

    /// <summary>Ends this direction with close_notify.</summary>
    public async Task CloseAsync() => await Channel.Output.CompleteAsync();

    /// <summary>Drops the connection: no close_notify, the peer sees it cut.</summary>
    public void Drop() => _socket.Abort();

    /// <summary>Reads and drops what the peer sends until it closes the channel.</summary>
    public Task DrainAsync() => Channel.Input.DrainUntilClosedAsync();

    public async ValueTask DisposeAsync()
    {
        _wire.Dispose();
        await Channel.DisposeAsync();
        await _socket.DisposeAsync();
    }
}
