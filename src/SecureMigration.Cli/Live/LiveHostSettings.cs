using Microsoft.Extensions.Logging;
using SecureMigration.Channel;
using SecureMigration.Qemu;
using SecureMigration.Sanitization;

namespace SecureMigration.Cli.Live;

/// <summary>What a real host running <c>secmig agent</c> or <c>secmig migrate</c> is made of.</summary>
/// <param name="WorkDirectory">The host's state: journal, audit log, admission state, migration sockets.</param>
/// <param name="Registry">The ownership registry both hosts share: a directory, or an etcd cluster (<c>etcd://...</c>).</param>
/// <param name="Channel">Credentials and peer policy.</param>
/// <param name="Vms">The QEMU VMs this host drives.</param>
/// <param name="HooksDirectory">A directory with pre-migrate/ and post-migrate/ executables, or <see langword="null"/>.</param>
/// <param name="SanitizeMethod">How residue (the VM's RAM file, listed images) is wiped.</param>
/// <param name="MemoryDirectories">Where the VMs' file-backed RAM may live; a RAM file QEMU reports elsewhere is not residue.</param>
/// <param name="AllowTcpQmp">Whether a QMP monitor may be a (unauthenticated) TCP address.</param>
/// <param name="StallTimeout">How long the stream may stall before the migration rolls back.</param>
/// <param name="CommitTimeout">How long each side waits for the other's commit message before the registry decides.</param>
/// <param name="QemuTimeout">How long QEMU may take to answer a QMP command, accept the monitor connection or connect its migration
/// stream.</param>
/// <param name="SettleTimeout">How long a migration may take to settle in QEMU after its stream ended, and QEMU to exit after
/// 'quit'.</param>
/// <param name="QemuProgress">Receives QEMU's statistics of outgoing migrations, or <see langword="null"/>.</param>
/// <param name="Logging">Where library events go.</param>
internal sealed record LiveHostSettings(
    string WorkDirectory, string Registry, SecureChannelOptions Channel, IReadOnlyList<QemuVm> Vms, string? HooksDirectory,
    SanitizationMethod SanitizeMethod, IReadOnlyList<string> MemoryDirectories, bool AllowTcpQmp, TimeSpan StallTimeout,
        TimeSpan CommitTimeout,
    TimeSpan QemuTimeout, TimeSpan SettleTimeout, IProgress<QemuMigrationInfo>? QemuProgress, ILoggerFactory Logging);
