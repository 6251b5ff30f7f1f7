using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureMigration.Qemu.Qmp;

/// <summary>
/// A client of QEMU's machine protocol (QMP) over a unix socket or TCP: it negotiates capabilities, runs commands
/// (matched to their answers by id, each with a timeout) and delivers asynchronous events to watchers. Every message
/// from QEMU is bounded in size; QEMU's errors are raised as <see cref="QmpCommandException"/> with QEMU's own words.
/// Safe for concurrent commands.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly QmpClientOptions _options;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCommand> _pending = new();
    private readonly Lock _watchersGate = new();
    private readonly List<QmpEventWatcher> _watchers = [];
    private readonly CancellationTokenSource _closing = new();
    private Task _readLoop = Task.CompletedTask;
    private volatile QmpConnectionException? _failure;
    private long _nextId;

    private QmpClient(Socket socket, EndPoint endPoint, QmpClientOptions options)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _options = options;
        EndPoint = endPoint;
    }

    /// <summary>Gets where the monitor listens.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Gets the socket, for the driver to learn the QEMU process behind it.</summary>
    internal Socket Socket => _socket;

    /// <summary>Gets QEMU's version, from its greeting.</summary>
    public Version QemuVersion { get; private set; } = new();

    /// <summary>Gets whether the connection is still open.</summary>
    public bool IsConnected => _failure is null;

    /// <summary>Gets a task that completes when the connection ends (QEMU exited, closed it, or this client was disposed).</summary>
    public Task Completion => _readLoop;

    /// <summary>Connects to a QEMU monitor, reads its greeting and negotiates capabilities.</summary>
    /// <param name="endPoint">The monitor's address (see <see cref="QmpEndPoints.Parse"/>).</param>
    /// <param name="options">Timeouts and limits, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <returns>A ready client.</returns>
    /// <exception cref="QmpConnectionException">Nothing listens there, or it does not speak QMP.</exception>
    /// <exception cref="QmpTimeoutException">The monitor did not answer in <see cref="QmpClientOptions.ConnectTimeout"/>.</exception>
    public static async Task<QmpClient> ConnectAsync(EndPoint endPoint, QmpClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options = options?.Snapshot() ?? new QmpClientOptions();
        options.Validate();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream,
            endPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        using var expiry = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
        try
        {
            await socket.ConnectAsync(endPoint, linked.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new QmpConnectionException(
                $"Could not connect to QEMU's monitor at {Describe(endPoint)}: {e.Message}. Check that the VM's QEMU runs with '-qmp " +
                    $"unix:PATH,server=on,wait=off' (or tcp:) and that this user may open it.", e);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new QmpTimeoutException($"the connection to {Describe(endPoint)}", options.ConnectTimeout,
                options.NameOf(nameof(QmpClientOptions.ConnectTimeout)));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new QmpClient(socket, endPoint, options);
        try
        {
            await client.NegotiateAsync(expiry, linked.Token).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a command and returns what QEMU answered.</summary>
    /// <param name="command">The command (for example <c>query-status</c>).</param>
    /// <param name="arguments">Its arguments, or <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the wait; QEMU may still run the command.</param>
    /// <returns>QEMU's <c>return</c> value (a detached copy).</returns>
    /// <exception cref="QmpCommandException">QEMU refused or failed the command.</exception>
    /// <exception cref="QmpTimeoutException">No answer within <see cref="QmpClientOptions.CommandTimeout"/>.</exception>
    /// <exception cref="QmpConnectionException">The connection ended.</exception>
    public async Task<JsonElement> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        long id = Interlocked.Increment(ref _nextId);
        var pending = new PendingCommand(command);
        _pending[id] = pending;
        try
        {
            if (_failure is { } failure)
            {
                throw failure;
            }

            byte[] message = Serialize(command, arguments, id);
            using var expiry = new CancellationTokenSource(_options.CommandTimeout, _options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
            try
            {
                await WriteAsync(message, linked.Token).ConfigureAwait(false);
                return await pending.Answer.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new QmpTimeoutException($"'{command}'", _options.CommandTimeout,
                    _options.NameOf(nameof(QmpClientOptions.CommandTimeout)));
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Starts collecting events, all of them or those named; dispose the watcher to stop.</summary>
    /// <param name="names">The event names to keep (for example <c>MIGRATION</c>); none keeps every event.</param>
    /// <returns>The watcher.</returns>
    /// <exception cref="QmpConnectionException">The connection already ended.</exception>
    public QmpEventWatcher WatchEvents(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var watcher = new QmpEventWatcher(this, [.. names], _options.EventBacklog, _options.TimeProvider);
        lock (_watchersGate)
        {
            if (_failure is { } failure)
            {
                throw failure;
            }

            _watchers.Add(watcher);
        }

        return watcher;
    }

    /// <summary>Closes the connection; pending commands and watchers fail with <see cref="QmpConnectionException"/>.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Fail(new QmpConnectionException($"The QMP connection to {Describe(EndPoint)} was closed by this client."));
        await _closing.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _readLoop.ConfigureAwait(false);
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
        _writeGate.Dispose();
    }

    internal void Unsubscribe(QmpEventWatcher watcher)
    {
        lock (_watchersGate)
        {
            _watchers.Remove(watcher);
        }
    }

    internal static string Describe(EndPoint endPoint) => endPoint switch
    {
        UnixDomainSocketEndPoint unix => "unix:" + unix,
        DnsEndPoint dns => $"tcp:{dns.Host}:{dns.Port}",
        _ => "tcp:" + endPoint,
    };

    private async Task NegotiateAsync(CancellationTokenSource expiry, CancellationToken cancellationToken)
    {
        try
        {
            using JsonDocument greeting = await ReadMessageAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new QmpConnectionException($"{Describe(EndPoint)} closed the connection before QMP's greeting; is another " +
                    $"client connected to this monitor?");
            if (!greeting.RootElement.TryGetProperty("QMP", out JsonElement qmp))
            {
                throw new QmpConnectionException($"{Describe(EndPoint)} does not speak QMP: its first message has no 'QMP' greeting. " +
                    $"Point this at a '-qmp' monitor, not a '-monitor' or serial socket.");
            }

            QemuVersion = ReadVersion(qmp);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested)
        {
            throw new QmpTimeoutException($"QMP's greeting from {Describe(EndPoint)}", _options.ConnectTimeout,
                _options.NameOf(nameof(QmpClientOptions.ConnectTimeout)));
        }
        catch (Exception e) when (e is (IOException or SocketException) and not QmpException)
        {
            throw new QmpConnectionException($"{Describe(EndPoint)} closed the connection before QMP's greeting ({e.Message}); its QEMU " +
                $"may be exiting.", e);
        }

        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        try
        {
            await ExecuteAsync("qmp_capabilities", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested)
        {
            // The connect timeout covers the negotiation too: it ran out while the monitor had not answered.
            throw new QmpTimeoutException($"'qmp_capabilities' on {Describe(EndPoint)}", _options.ConnectTimeout,
                _options.NameOf(nameof(QmpClientOptions.ConnectTimeout)));
        }
    }

    private static Version ReadVersion(JsonElement qmp)
    {
        if (qmp.ValueKind == JsonValueKind.Object && qmp.TryGetProperty("version", out JsonElement version) &&
            version.ValueKind == JsonValueKind.Object &&
            version.TryGetProperty("qemu", out JsonElement qemu) && qemu.ValueKind == JsonValueKind.Object &&
            qemu.TryGetProperty("major", out JsonElement major) && qemu.TryGetProperty("minor", out JsonElement minor) &&
                qemu.TryGetProperty("micro", out JsonElement micro) &&
            major.TryGetInt32(out int a) && minor.TryGetInt32(out int b) && micro.TryGetInt32(out int c) && a >= 0 && b >= 0 && c >= 0)
        {
            return new Version(a, b, c);
        }

        return new Version();
    }

    private async Task ReadLoopAsync()
    {
        QmpConnectionException failure;
        try
        {
            while (true)
            {
                using JsonDocument? message = await ReadMessageAsync(_closing.Token).ConfigureAwait(false);
                if (message is null)
                {
                    failure = new QmpConnectionException($"QEMU closed the QMP connection at {Describe(EndPoint)} (the VM's QEMU exited, " +
                        $"or quit).");
                    break;
                }

                Dispatch(message.RootElement);
            }
        }
        catch (QmpConnectionException e)
        {
            failure = e;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            failure = new QmpConnectionException($"The QMP connection to {Describe(EndPoint)} broke: {e.Message}", e);
        }

        Fail(failure);
    }

    /// <summary>Reads one newline-terminated JSON message; <see langword="null"/> at the end of the connection.</summary>
    private async ValueTask<JsonDocument?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } newline)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, newline);
                SequencePosition next = buffer.GetPosition(1, newline);
                if (line.Length > _options.MaxMessageBytes)
                {
                    throw TooLong();
                }

                if (IsBlank(line))
                {
                    _reader.AdvanceTo(next);
                    continue;
                }

                if (!IsUtf8(line))
                {
                    throw new QmpConnectionException($"{Describe(EndPoint)} sent a line that is not UTF-8; it does not speak QMP.");
                }

                JsonDocument message;
                try
                {
                    message = JsonDocument.Parse(line);
                }
                catch (JsonException e)
                {
                    throw new QmpConnectionException($"{Describe(EndPoint)} sent a line that is not JSON ({e.Message}); it does not " +
                        $"speak QMP.", e);
                }

                _reader.AdvanceTo(next);
                JsonValueKind kind = message.RootElement.ValueKind;
                if (kind != JsonValueKind.Object)
                {
                    message.Dispose();
                    throw new QmpConnectionException($"{Describe(EndPoint)} sent a JSON {kind} where QMP sends objects.");
                }

                return message;
            }

            if (buffer.Length > _options.MaxMessageBytes)
            {
                throw TooLong();
            }

            if (result.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                return null;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private QmpConnectionException TooLong() => new(
        $"{Describe(EndPoint)} sent a message over {_options.MaxMessageBytes} bytes; the connection was closed rather than buffer it " +
            $"(raise QmpClientOptions.MaxMessageBytes if this QEMU needs it).");

    /// <summary>Whether the line is UTF-8: the JSON reader checks the text of strings only when it is read.</summary>
    private static bool IsUtf8(ReadOnlySequence<byte> line) =>
        line.IsSingleSegment ? System.Text.Unicode.Utf8.IsValid(line.FirstSpan) : System.Text.Unicode.Utf8.IsValid(line.ToArray());

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (ReadOnlyMemory<byte> segment in line)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private void Dispatch(JsonElement message)
    {
        if (message.TryGetProperty("event", out JsonElement name) && TryReadText(name, out string? eventName) && eventName.Length > 0)
        {
            var qmpEvent = new QmpEvent(
                eventName,
                message.TryGetProperty("data", out JsonElement data) ? data.Clone() : EmptyObject,
                ReadTimestamp(message));
            lock (_watchersGate)
            {
                foreach (QmpEventWatcher watcher in _watchers)
                {
                    if (watcher.Wants(qmpEvent.Name))
                    {
                        watcher.Post(qmpEvent);
                    }
                }
            }

            return;
        }

        if (!message.TryGetProperty("id", out JsonElement idElement) || !idElement.TryGetInt64(out long id) || !_pending.TryGetValue(id,
            out PendingCommand? pending))
        {
            return; // An answer nobody waits for any more (its command timed out).
        }

        if (message.TryGetProperty("return", out JsonElement answer))
        {
            pending.Answer.TrySetResult(answer.Clone());
        }
        else if (message.TryGetProperty("error", out JsonElement error))
        {
            pending.Answer.TrySetException(new QmpCommandException(pending.Command, ReadString(error, "class") ?? "UnknownError",
                ReadString(error, "desc") ?? "QEMU gave no description"));
        }
    }

    private static string? ReadString(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value) && TryReadText(value,
            out string? text) ? text : null;

    /// <summary>A JSON string's text; <see langword="false"/> for another kind, or an escape that is no character (a lone
    /// surrogate).</summary>
    private static bool TryReadText(JsonElement value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        text = null;
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static DateTimeOffset ReadTimestamp(JsonElement message)
    {
        if (message.TryGetProperty("timestamp", out JsonElement timestamp) && timestamp.ValueKind == JsonValueKind.Object &&
            timestamp.TryGetProperty("seconds", out JsonElement seconds) && seconds.TryGetInt64(out long s) &&
            timestamp.TryGetProperty("microseconds", out JsonElement microseconds) && microseconds.TryGetInt64(out long us) &&
            s is >= 0 and < 253402300799 && us is >= 0 and < 1_000_000)
        {
            return DateTimeOffset.UnixEpoch.AddSeconds(s).AddTicks(us * 10);
        }

        return DateTimeOffset.UnixEpoch;
    }

    private static byte[] Serialize(string command, JsonObject? arguments, long id)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (arguments is not null)
            {
                writer.WritePropertyName("arguments");
                arguments.WriteTo(writer);
            }

            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }

        byte[] message = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(message);
        message[^1] = (byte)'\n';
        return message;
    }

    private async ValueTask WriteAsync(byte[] message, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // A send that fails ends the connection (QEMU exited, its socket closed) even before the reader sees the end: a
            // caller that connects again must not be handed this one.
            Fail(new QmpConnectionException($"Could not send to QEMU's monitor at {Describe(EndPoint)}: {e.Message}", e));
            throw _failure!;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void Fail(QmpConnectionException failure)
    {
        lock (_watchersGate)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = failure;
            foreach (QmpEventWatcher watcher in _watchers)
            {
                watcher.Fail(failure);
            }

            _watchers.Clear();
        }

        foreach (PendingCommand pending in _pending.Values)
        {
            pending.Answer.TrySetException(failure);
        }
    }

    private sealed class PendingCommand(string command)
    {
        public string Command { get; } = command;

        public TaskCompletionSource<JsonElement> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
