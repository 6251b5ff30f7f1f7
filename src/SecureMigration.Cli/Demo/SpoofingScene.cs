using System.Net;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Cli.Cluster;
using SecureMigration.Cli.Terminal;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Cli.Demo;

/// <summary>
/// The demo's spoofing scene: an impostor destination and a rogue source, both with certificates from another CA, and
/// an insider with a certificate from the cluster's own CA that claims a VM it does not own.
/// </summary>
internal sealed class SpoofingScene(ConsoleStyle style, SimulatedCluster cluster)
{
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        style.Line(style.Strong("3. Spoofing: hosts with certificates from another CA, and an insider with one from this CA"));
        using CertificateAuthority rogueCa = CertificateAuthority.Create("Rogue CA");
        string caPem = await File.ReadAllTextAsync(Path.Combine(cluster.WorkDirectory, "pki", "ca.pem"), cancellationToken);
        ClusterHost source = cluster.Host(SimulatedCluster.SourceName);
        ClusterHost destination = cluster.Host(SimulatedCluster.DestinationName);
        bool impostorRefused = await ImpostorDestinationAsync(source, Credentials(rogueCa.IssueHost(destination.Id, [IPAddress.Loopback]),
            caPem), cancellationToken);
        bool rogueRefused = await RogueSourceAsync(Credentials(rogueCa.IssueHost(source.Id), caPem), destination, cancellationToken);
        string caKeyPem = await File.ReadAllTextAsync(Path.Combine(cluster.WorkDirectory, "pki", "ca.key"), cancellationToken);
        using CertificateAuthority clusterCa = CertificateAuthority.Load(caPem, caKeyPem);
        bool insiderRefused = await InsiderAsync(Credentials(clusterCa.IssueHost("insider.demo", [IPAddress.Loopback]), caPem), destination,
            cancellationToken);
        return impostorRefused && rogueRefused && insiderRefused;
    }

    private async Task<bool> ImpostorDestinationAsync(ClusterHost source, X509ChannelCredentials impostor,
        CancellationToken cancellationToken)
    {
        style.Line($"   An impostor claims to be {SimulatedCluster.DestinationName}:");
        await using var impostorListener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0),
            new SecureChannelFactory(new SecureChannelOptions { Credentials = impostor }));
        impostorListener.Start();
        try
        {
            await using ChannelConnection stolen = await source.Factory.ConnectAsync(impostorListener.LocalEndPoint,
                MigrationTicket.Create("demo-vm", source.Id, SimulatedCluster.DestinationName, 1, TimeSpan.FromMinutes(1)),
                    cancellationToken);
            style.Line(style.Bad("   The source trusted the impostor."));
            return false;
        }
        catch (HandshakeFailedException e)
        {
            style.Line(style.Good($"   Refused by the source ({e.Reason}): ") + e.Message);
            style.Line("   The source stopped before its ticket or any VM byte was sent.");
            return e.Reason == HandshakeFailureReason.UntrustedChain;
        }
    }

    private async Task<bool> RogueSourceAsync(X509ChannelCredentials rogue, ClusterHost destination, CancellationToken cancellationToken)
    {
        style.Line($"   A rogue host tries to push a VM to {destination.Id}:");
        HandshakeFailedException? refused = await PushAsync(rogue, "rogue-vm", SimulatedCluster.SourceName, destination, cancellationToken);
        if (refused is null)
        {
            style.Line(style.Bad("   The destination accepted the rogue host."));
            return false;
        }

        style.Line(style.Good($"   Refused by the destination (the rogue sees {refused.Reason}): ") + refused.Message);
        return refused.Reason == HandshakeFailureReason.RefusedByPeer;
    }

    private async Task<bool> InsiderAsync(X509ChannelCredentials insider, ClusterHost destination, CancellationToken cancellationToken)
    {
        style.Line($"   An insider (a host with a certificate from this cluster's CA) claims demo-vm and pushes it to {destination.Id}:");
        int journaled = destination.Journal.Records.Count;
        HandshakeFailedException? refused = await PushAsync(insider, "demo-vm", insider.LocalIdentity, destination, cancellationToken);
        if (refused is null)
        {
            style.Line(style.Bad("   The destination accepted the insider's ticket."));
            return false;
        }

        bool untouched = destination.Journal.Records.Count == journaled;
        style.Line(style.Good($"   Refused by the destination ({refused.Reason}): ") + "the ownership registry does not name the insider " +
            "as demo-vm's owner.");
        style.Line(untouched
            ? "   Checked before anything was journaled or touched: the destination's journal and VMs are as they were; one audit entry " +
                "records it."
            : style.Bad("   The destination journaled the insider's migration."));
        return refused.Reason == HandshakeFailureReason.TicketRefused && untouched;
    }

    /// <summary>Opens a channel to <paramref name="destination"/> with a ticket for <paramref name="vmId"/>; returns the refusal, or
    /// <see langword="null"/> when it was accepted.</summary>
    private static async Task<HandshakeFailedException?> PushAsync(X509ChannelCredentials credentials, string vmId, string claimedSource,
        ClusterHost destination,
        CancellationToken cancellationToken)
    {
        var factory = new SecureChannelFactory(new SecureChannelOptions { Credentials = credentials });
        try
        {
            await using ChannelConnection pushed = await factory.ConnectAsync(destination.Listener.LocalEndPoint,
                MigrationTicket.Create(vmId, claimedSource, destination.Id, 1, TimeSpan.FromMinutes(1)), cancellationToken);
            return null;
        }
        catch (HandshakeFailedException e)
        {
            return e;
        }
    }

    private static X509ChannelCredentials Credentials(IssuedCredential host, string caPem) =>
        X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, caPem);
}
