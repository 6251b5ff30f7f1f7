using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Residues;
using SecureMigration.DependencyInjection;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Sanitization;

// The one exception to folders-are-namespaces: service registration extensions live in the namespace of the
// IServiceCollection they extend, as Microsoft's own do, so 'services.AddSecureMigration' needs no using.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers SecureMigration's services with a service collection.</summary>
public static class SecureMigrationServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SecureChannelFactory"/> built from the configured, validated
    /// <see cref="SecureChannelOptions"/>, and <see cref="TimeProvider.System"/> unless a clock is registered.
    /// Idempotent: a second call does not replace the first registration.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the credentials and policy; runs once, when the factory is first resolved.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentException">At resolution, when an option is invalid; the message names it and its value.</exception>
    public static IServiceCollection AddSecureChannel(this IServiceCollection services, Action<SecureChannelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
        {
            var options = new SecureChannelOptions { TimeProvider = provider.GetRequiredService<TimeProvider>() };
            configure(options);
            options.Validate();
            return options;
        });
        services.TryAddSingleton(provider => new SecureChannelFactory(provider.GetRequiredService<SecureChannelOptions>(),
            provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Registers SecureMigration as singletons, composed by <see cref="MigrationHostBuilder"/>: the <see cref="MigrationHost"/>
    /// and, from it, <see cref="MigrationCoordinator"/>, <see cref="IMigrationJournal"/>, <see cref="IAuditSink"/>,
    /// <see cref="IOwnershipRegistry"/>, <see cref="HypervisorDriver"/> and <see cref="AdmissionController"/> (when admission
    /// is on); and <see cref="SecureChannelFactory"/>. <paramref name="configure"/> runs now and every option is validated now,
    /// so a bad option fails start-up with a message that names it, its value and what is allowed.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets credentials, paths, the driver, the registry and any option.</param>
    /// <returns>The same service collection.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">A required part (driver, registry, credentials) is missing.</exception>
    public static IServiceCollection AddSecureMigration(this IServiceCollection services, Action<SecureMigrationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new SecureMigrationBuilder();
        configure(builder);
        builder.Validate();

        services.TryAddSingleton(builder.TimeProvider);
        services.TryAddSingleton(builder.Channel);
        services.TryAddSingleton(provider =>
        {
            // Incoming tickets get the coordinator's complete check during the handshake, before anything is touched.
            MigrationCoordinator coordinator = provider.GetRequiredService<MigrationCoordinator>();
            builder.Channel.TicketValidator = coordinator.CreateTicketValidator(builder.Channel.TicketValidator);
            return new SecureChannelFactory(builder.Channel, provider.GetService<ILoggerFactory>());
        });
        services.TryAddSingleton(provider =>
        {
            // Every part goes through the one composition root; the DI container only supplies the parts it resolves.
            var host = new MigrationHostBuilder(builder.Coordinator.HostId)
                .UseCoordinatorOptions(builder.Coordinator)
                .UseTimeProvider(builder.TimeProvider)
                .UseHostKey(builder.HostKeyPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(builder.JournalPath!))!, "host.key"))
                .UseJournal(builder.JournalPath!)
                .UseAudit(builder.AuditLogPath!)
                .UseOwnershipRegistry(builder.Registry!(provider))
                .UseDriver(builder.Driver!(provider))
                .UseSnapshots(builder.Snapshots(provider))
                .UseResidue(builder.Channel.ValidatedCredentials is X509ChannelCredentials signer &&
                    builder.CertificateDirectory is { } certificates
                    ? new SanitizingResidueHandler(new BlockSanitizer(builder.Sanitizer), builder.SanitizationMethod, signer, certificates)
                    : new SanitizingResidueHandler(new BlockSanitizer(builder.Sanitizer), builder.SanitizationMethod));
            if (provider.GetService<ILoggerFactory>() is { } logging)
            {
                host.UseLogging(logging);
            }

            if (builder.Admission is { } admission)
            {
                host.UseAdmission(admission, builder.AdmissionStatePath is { } state ? new FileAdmissionStateStore(state) : null);
            }

            // The file admission store completes synchronously, so blocking here does not starve the container's caller.
            return host.BuildAsync().GetAwaiter().GetResult();
        });
        services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Coordinator);
        services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Journal);
        services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Audit);
        services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Registry);
        services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Driver);
        if (builder.Admission is not null)
        {
            services.TryAddSingleton(provider => provider.GetRequiredService<MigrationHost>().Admission!);
        }

        return services;
    }
}
