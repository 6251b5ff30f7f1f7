using System.Net.Sockets;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Qemu;

/// <summary>
/// QEMU's outgoing migration stream, read from the connection QEMU opened to the driver. Its end is a clean end only
/// when QEMU says the migration completed (the VM is then paused in <c>postmigrate</c>); otherwise reading it fails with
/// QEMU's reason. While it is open, QEMU's statistics go to <see cref="QemuDriverOptions.Progress"/>.
/// </summary>
internal sealed class QemuOutgoingStream : Stream
{
    private readonly NetworkStream _inner;
    private readonly QemuDriver _driver;
    private readonly QemuVmSession _vm;
    private readonly QmpClient _qmp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _statistics;
    private bool _ended;

    public QemuOutgoingStream(Socket socket, QemuDriver driver, QemuVmSession vm, QmpClient qmp)
    {
        _inner = new NetworkStream(socket, ownsSocket: true);
        _driver = driver;
        _vm = vm;
        _qmp = qmp;
        _statistics = driver.ReportStatisticsAsync(qmp, _stop.Token);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }

        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0 && !buffer.IsEmpty)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            QemuMigrationInfo info = await _driver.WaitUntilSettledAsync(_qmp, cancellationToken).ConfigureAwait(false);
            _vm.LastOutgoing = info;
            Log.OutgoingSettled(_driver.Logger, _vm.Id, info.Status, info.TotalTime, info.Downtime, info.Passes);
            if (info.Status != "completed")
            {
                throw new QemuMigrationException(_vm.Id, info.Status, $"QEMU's outgoing migration of VM '{_vm.Id}' ended as " +
                    $"'{info.Status}': {info.Error ?? "QEMU gave no reason"}.");
            }

            _ended = true;
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter()
        .GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        await _statistics.ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _inner.Dispose();
            _stop.Dispose();
        }

        base.Dispose(disposing);
    }
}
