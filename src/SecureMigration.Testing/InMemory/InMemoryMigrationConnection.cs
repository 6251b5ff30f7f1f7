using System.IO.Pipelines;
using System.Net;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Testing.InMemory;

/// <summary>
/// A <see cref="MigrationConnection"/> over in-memory pipes, with no socket and no TLS: the coordinator's protocol
/// alone, with faults injected by a <see cref="FaultInjectingPipe"/> on the way from the source to the destination.
/// </summary>
public sealed class InMemoryMigrationConnection : MigrationConnection
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private InMemoryMigrationConnection(IDuplexPipe pipe, MigrationTicket ticket, PeerIdentity peer, TimeProvider time)
        : base(pipe, ticket, peer, new DnsEndPoint(peer.Name, 0), CloseTimeout, time)
    {
    }

    /// <summary>
    /// Connects a source and a destination for <paramref name="ticket"/>: each sees the other as the host its ticket
    /// names, and the bytes from the source pass through <paramref name="toDestination"/>.
    /// </summary>
    public static (InMemoryMigrationConnection Source, InMemoryMigrationConnection Destination) CreatePair(MigrationTicket ticket,
        FaultInjectingPipe toDestination, TimeProvider time)
    {
        var toSource = new Pipe(new PipeOptions(useSynchronizationContext: false));
        PeerIdentity destination = PeerNamed(ticket.DestinationIdentity);
        PeerIdentity source = PeerNamed(ticket.SourceIdentity);
        return (new InMemoryMigrationConnection(new PipeEnds(toSource.Reader, toDestination.Writer), ticket, destination, time),
            new InMemoryMigrationConnection(new PipeEnds(toDestination.Reader, toSource.Writer), ticket, source, time));
    }

    /// <summary>Breaks both directions: the peer's reads fail instead of ending cleanly.</summary>
    /// <returns>A completed task.</returns>
    protected override ValueTask AbortCoreAsync()
    {
        Pipe.Output.Complete(new IOException("the in-memory connection was aborted"));
        Pipe.Input.Complete();
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends this end's output cleanly and stops reading.</summary>
    /// <returns>A completed task.</returns>
    protected override ValueTask CloseCoreAsync()
    {
        Pipe.Output.Complete();
        Pipe.Input.Complete();
        return ValueTask.CompletedTask;
    }

    private static PeerIdentity PeerNamed(string name) => new(name, [name], SpkiSha256: "in-memory");

    private sealed record PipeEnds(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
