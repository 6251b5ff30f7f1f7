using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel;

namespace Microsoft.Extensions.DependencyInjection;

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
        services.TryAddSingleton(provider => new SecureChannelFactory(provider.GetRequiredService<SecureChannelOptions>(), provider.GetService<ILoggerFactory>()));
        return services;
    }
}
