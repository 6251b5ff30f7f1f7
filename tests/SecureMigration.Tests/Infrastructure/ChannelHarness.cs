using System.IO.Pipelines;
using System.Net;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>Runs both ends of a handshake and reports what each end saw.</summary>
public static class ChannelHarness
{
    public static SecureChannelOptions Options(ChannelCredentials credentials, TimeProvider? time = null) => new()
    {
        Credentials = credentials,
        TimeProvider = time ?? TimeProvider.System,
    };

    /// <summary>A listener on a loopback port of its own, started, accepting with <paramref name="destination"/>.</summary>
    public static SecureChannelListener Listen(SecureChannelFactory destination)
    {
        var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), destination);
        listener.Start();
        return listener;
    }

    public static MigrationTicket Ticket(TimeProvider? time = null, string destination = "destination.test",
        string source = "source.test") =>
        MigrationTicket.Create("vm-1", source, destination, 1, TimeSpan.FromMinutes(1), time);

    /// <summary>Runs connect and accept concurrently; returns each side's channel or exception.</summary>
    public static async Task<(Outcome Client, Outcome Server)> RunAsync(SecureChannelFactory source, SecureChannelFactory destination,
        IDuplexPipe clientTransport, IDuplexPipe serverTransport, MigrationTicket ticket)
    {
        Task<SecureChannel> accept = destination.AcceptAsync(serverTransport);
        Task<SecureChannel> connect = source.ConnectAsync(clientTransport, ticket);
        Outcome client = await Capture(connect);
        if (client.Error is not null)
        {
            // The client gave up: end its transport so the server does not wait for its timeout.
            await clientTransport.Output.CompleteAsync();
        }

        Outcome server = await Capture(accept);
        if (server.Error is not null)
        {
            await serverTransport.Output.CompleteAsync();
        }

        return (client, server);
    }

    private static async Task<Outcome> Capture(Task<SecureChannel> task)
    {
        try
        {
            return new Outcome(await task, null);
        }
        catch (Exception e)
        {
            return new Outcome(null, e);
        }
    }

    public sealed record Outcome(SecureChannel? Channel, Exception? Error)
    {
        public HandshakeFailureReason Reason => Assert.IsType<HandshakeFailedException>(Error).Reason;
    }
}
