
namespace SecureMigration.Tunnel;

/// <summary>Settings shared by both ends of a migration tunnel.</summary>
public sealed class TunnelOptions
{
    /// <summary>Gets or sets how long a tunnelled connection may carry no byte in either direction before it is reset.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long connecting to the other end or to the forward address may take.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the VM id the source end puts in its tickets.</summary>
    /// <value>The default is <c>tunnel</c>.</value>
    public string VmId { get; set; } = "tunnel";

    /// <summary>Gets or sets how long a ticket issued by the source end stays valid.</summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets the local users (uids) whose connections a <see cref="TunnelConnector"/> carries: a connection from any other
    /// user is reset before anything is sent, since the tunnel would carry it under this host's credentials.
    /// </summary>
    /// <value>The default is empty: only the user this process runs as.</value>
    public IList<int> AllowedLocalUsers { get; } = [];

    /// <summary>
    /// Gets or sets whether a <see cref="TunnelConnector"/> may listen on an address other than loopback or a unix
    /// socket. Every host that reaches such an address can then migrate under this host's credentials, and the local
    /// user check cannot apply to it.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool AllowRemoteClients { get; set; }

    /// <summary>
    /// Gets or sets whether a <see cref="TunnelAcceptor"/> may serve every peer the CA vouches for. Without it the
    /// acceptor's factory must name the allowed peers (<see cref="Identity.PeerPolicy.AllowedPeers"/>) or pin their keys,
    /// since any host of the cluster could otherwise reach this hypervisor.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool AllowAnyPeer { get; set; }

    /// <summary>Gets or sets the clock for idle timeouts.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (IdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"TunnelOptions.IdleTimeout is {IdleTimeout}; it must be above zero.", nameof(IdleTimeout));
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"TunnelOptions.ConnectTimeout is {ConnectTimeout}; it must be above zero.",
                nameof(ConnectTimeout));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(VmId, nameof(VmId));
    }

    /// <summary>A copy, allowed users included, that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal TunnelOptions Snapshot()
    {
        var copy = new TunnelOptions
        {
            IdleTimeout = IdleTimeout, ConnectTimeout = ConnectTimeout, VmId = VmId, TicketLifetime = TicketLifetime,
            AllowRemoteClients = AllowRemoteClients, AllowAnyPeer = AllowAnyPeer, TimeProvider = TimeProvider,
        };
        foreach (int user in AllowedLocalUsers)
        {
            copy.AllowedLocalUsers.Add(user);
        }

        return copy;
    }
}
