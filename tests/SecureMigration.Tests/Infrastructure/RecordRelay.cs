using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// A byte-level man in the middle between two transport ends. It splits each direction into TLS records and
/// asks <see cref="RecordHook"/> what to forward; the hook can pass, alter, or cut the connection.
/// </summary>
public sealed class RecordRelay
{
    private readonly DuplexPair _clientSide = new();
    private readonly DuplexPair _serverSide = new();
    private readonly RecordHook _hook;
    private int _records;

    public delegate RelayAction RecordHook(int index, bool fromClient, byte[] record);

    public RecordRelay(RecordHook hook)
    {
        _hook = hook;
        _ = PumpAsync(_clientSide.Server.Input, _serverSide.Client.Output, fromClient: true);
        _ = PumpAsync(_serverSide.Client.Input, _clientSide.Server.Output, fromClient: false);
    }

    /// <summary>Gets the end the TLS client uses.</summary>
    public IDuplexPipe Client => _clientSide.Client;

    /// <summary>Gets the end the TLS server uses.</summary>
    public IDuplexPipe Server => _serverSide.Server;

    /// <summary>Gets how many records the relay has seen in both directions.</summary>
    public int RecordCount => Volatile.Read(ref _records);

    public static RelayAction Pass(int index, bool fromClient, byte[] record) => RelayAction.Forward;

    private async Task PumpAsync(PipeReader from, PipeWriter to, bool fromClient)
    {
        try
        {
            while (true)
            {
                ReadResult result = await from.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (TryTakeRecord(ref buffer, out byte[]? record))
                {
                    int index = Interlocked.Increment(ref _records) - 1;
                    RelayAction action = _hook(index, fromClient, record);
                    if (action == RelayAction.Cut)
                    {
                        Cut();
                        return;
                    }

                    await to.WriteAsync(record);
                }

                from.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    await to.CompleteAsync();
                    return;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            Cut();
        }
    }

    private void Cut()
    {
        _serverSide.Client.Output.Complete();
        _clientSide.Server.Output.Complete();
    }

    private static bool TryTakeRecord(ref ReadOnlySequence<byte> buffer,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? record)
    {
        record = null;
        if (buffer.Length < 5)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        int length = 5 + BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        if (buffer.Length < length)
        {
            return false;
        }

        record = buffer.Slice(0, length).ToArray();
        buffer = buffer.Slice(length);
        return true;
    }
}

public enum RelayAction
{
    Forward,
    Cut,
}
