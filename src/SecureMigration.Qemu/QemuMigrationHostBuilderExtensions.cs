using Microsoft.Extensions.Logging;
using SecureMigration.Hosting;

namespace SecureMigration.Qemu;

/// <summary>Composes a host whose hypervisor is QEMU.</summary>
public static class QemuMigrationHostBuilderExtensions
{
    /// <summary>Uses a <see cref="QemuDriver"/> with <paramref name="options"/>; the host disposes it.</summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="options">The VMs, runtime directory and timeouts; validated by the driver.</param>
    /// <param name="loggerFactory">Where the driver logs, or <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    public static MigrationHostBuilder UseQemu(this MigrationHostBuilder builder, QemuDriverOptions options,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseDriver(new QemuDriver(options, loggerFactory), disposeWithHost: true);
    }
}
